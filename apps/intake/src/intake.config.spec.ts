import { parseConfig } from '@alerta-rosa/config';
import { intakeConfigSchema } from './intake.config';

const secret = { AUTH_JWT_SECRET: 'x'.repeat(40) };

describe('intake configuration', () => {
  it('requires PUBLIC_BASE_URL in production, where a localhost photo link would be published', () => {
    expect(() => parseConfig(intakeConfigSchema, { ...secret, NODE_ENV: 'production' })).toThrow(
      /PUBLIC_BASE_URL: required in production/,
    );
    const config = parseConfig(intakeConfigSchema, {
      ...secret,
      NODE_ENV: 'production',
      PUBLIC_BASE_URL: 'https://alertarosa.example.gob.mx',
    });
    expect(config.PUBLIC_BASE_URL).toBe('https://alertarosa.example.gob.mx');
  });

  it('defaults PUBLIC_BASE_URL to the local port in development', () => {
    expect(parseConfig(intakeConfigSchema, { ...secret, PORT: '3101' }).PUBLIC_BASE_URL).toBe(
      'http://127.0.0.1:3101',
    );
  });
});
