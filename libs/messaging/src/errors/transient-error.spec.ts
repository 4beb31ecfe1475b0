import { QueryFailedError } from 'typeorm';
import { isTransientInfrastructureError } from './transient-error';

function pgError(code: string, message = 'error'): Error {
  return Object.assign(new Error(message), { code });
}

describe('isTransientInfrastructureError', () => {
  it.each(['40P01', '57P01', '53300', '40001', '08006', '57P03', '55P03'])(
    'treats PostgreSQL SQLSTATE %s as transient, also when TypeORM wraps it',
    (code) => {
      expect(isTransientInfrastructureError(pgError(code))).toBe(true);
      expect(isTransientInfrastructureError(new QueryFailedError('SELECT 1', [], pgError(code)))).toBe(true);
    },
  );

  it.each(['23505', '23514', '22P02', '42P01'])(
    'treats SQLSTATE %s (caused by the statement) as the event’s',
    (code) => {
      expect(isTransientInfrastructureError(pgError(code))).toBe(false);
    },
  );

  it('recognises lost connections, Kafka connection errors and Redis timeouts', () => {
    expect(isTransientInfrastructureError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      isTransientInfrastructureError(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')),
    ).toBe(true);
    expect(
      isTransientInfrastructureError(Object.assign(new Error('x'), { name: 'KafkaJSConnectionError' })),
    ).toBe(true);
    expect(isTransientInfrastructureError(new Error('Redis did not answer within 5000 ms'))).toBe(true);
    expect(
      isTransientInfrastructureError(
        Object.assign(new Error('outer'), { cause: pgError('57P01', 'terminating connection') }),
      ),
    ).toBe(true);
  });

  it('leaves business errors, validation errors and Kafka refusals of the message to the event', () => {
    expect(isTransientInfrastructureError(new Error('la ficha no cumple una regla de negocio'))).toBe(false);
    expect(isTransientInfrastructureError(new TypeError('cannot read properties of undefined'))).toBe(false);
    expect(
      isTransientInfrastructureError(
        Object.assign(new Error('The request included a message larger than the max message size'), {
          name: 'KafkaJSProtocolError',
          type: 'MESSAGE_TOO_LARGE',
          retriable: false,
        }),
      ),
    ).toBe(false);
    expect(isTransientInfrastructureError(null)).toBe(false);
    expect(isTransientInfrastructureError('string')).toBe(false);
  });
});
