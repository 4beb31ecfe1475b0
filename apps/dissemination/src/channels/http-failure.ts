import { AmbiguousError, TransientError } from './channel.errors';

/**
 * Classifies a fetch() that threw (no HTTP answer). Refused/unresolvable connections never reached the
 * platform; a timeout or a reset may have, so on a step that creates something it is ambiguous.
 */
export function fetchFailure(platform: string, err: unknown, creates: boolean): Error {
  const e = err as Error & { cause?: NodeJS.ErrnoException };
  const code = e.cause?.code ?? e.name;
  const neverSent = [
    'ECONNREFUSED',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'UND_ERR_CONNECT_TIMEOUT',
  ].includes(code ?? '');
  const msg = `${platform} request: ${code ?? e.message}`;
  return creates && !neverSent ? new AmbiguousError(msg) : new TransientError(msg);
}

/** Reset instant from `x-rate-limit-reset` (epoch seconds) or `retry-after` (seconds). */
export function resetFromHeaders(headers: Headers, fallbackMs = 60_000): Date {
  const reset = Number(headers.get('x-rate-limit-reset'));
  if (reset > 0) return new Date(reset * 1000);
  const retryAfter = Number(headers.get('retry-after'));
  if (retryAfter > 0) return new Date(Date.now() + retryAfter * 1000);
  return new Date(Date.now() + fallbackMs);
}
