import { z } from 'zod';
import { ConfigError, baseConfigSchema, parseConfig, portSchema } from './config.loader';

const schema = baseConfigSchema.extend({ PORT: portSchema(3001) });

describe('configuration', () => {
  it('fills defaults for a bare environment', () => {
    const config = parseConfig(schema, {});
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.KAFKA_TOPIC_PARTITIONS).toBe(6);
    expect(config.PORT).toBe(3001);
  });

  it('names every bad variable in one line', () => {
    expect(() =>
      parseConfig(schema, { KAFKA_BROKERS: 'localhost', PORT: 'x', DATABASE_URL: 'mysql://a/b' }),
    ).toThrow(/invalid configuration: .*DATABASE_URL.*KAFKA_BROKERS.*PORT/);
  });

  it('refuses test-only crash injection in production', () => {
    expect(() => parseConfig(schema, { NODE_ENV: 'production', FAULT_KILL_AFTER_INBOX_COMMIT: '1' })).toThrow(
      ConfigError,
    );
  });

  it('parses a broker list', () => {
    expect(
      parseConfig(z.object({ KAFKA_BROKERS: baseConfigSchema.shape.KAFKA_BROKERS }), {
        KAFKA_BROKERS: 'a:1, b:2',
      }),
    ).toEqual({
      KAFKA_BROKERS: ['a:1', 'b:2'],
    });
  });
});
