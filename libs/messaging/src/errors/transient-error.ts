/**
 * Whether an error comes from the infrastructure being away for a moment (the database, Kafka or Redis)
 * rather than from the event being handled. Such errors are retried without limit: an event must never
 * be dead-lettered because PostgreSQL restarted or a deadlock was chosen as victim.
 */

/** PostgreSQL SQLSTATEs that say "try again", whatever the statement was. */
const PG_TRANSIENT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available (lock_timeout)
  '57014', // query_canceled (statement_timeout)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down)
  '58000', // system_error
  '58030', // io_error
]);
/** Whole SQLSTATE classes: 08 connection exception, 53 insufficient resources (e.g. 53300 too many connections). */
const PG_TRANSIENT_CLASSES = ['08', '53'];

const NODE_TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
]);

const KAFKAJS_TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
]);

const TRANSIENT_MESSAGES =
  /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Connection is closed|Stream isn't writeable|terminating connection|the database system is (starting up|shutting down|in recovery mode)|too many clients|Redis did not answer|MaxRetriesPerRequest|Query read timeout|Driver not Connected/i;

export function isTransientInfrastructureError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 6) return false;
  const e = err as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    retriable?: unknown;
    cause?: unknown;
    driverError?: unknown;
    originalError?: unknown;
    errors?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : '';
  if (
    PG_TRANSIENT_CODES.has(code) ||
    PG_TRANSIENT_CLASSES.some((c) => /^[0-9A-Z]{5}$/.test(code) && code.startsWith(c))
  )
    return true;
  if (NODE_TRANSIENT_CODES.has(code)) return true;
  const name = typeof e.name === 'string' ? e.name : '';
  if (name.startsWith('KafkaJS')) {
    if (KAFKAJS_TRANSIENT_NAMES.has(name)) return true;
    if (e.retriable === true) return true;
  }
  if (name === 'MaxRetriesPerRequestError') return true;
  if (typeof e.message === 'string' && TRANSIENT_MESSAGES.test(e.message)) return true;
  const nested = [e.driverError, e.cause, e.originalError];
  if (Array.isArray(e.errors)) nested.push(...(e.errors as unknown[]));
  return nested.some((n) => n !== err && isTransientInfrastructureError(n, depth + 1));
}
