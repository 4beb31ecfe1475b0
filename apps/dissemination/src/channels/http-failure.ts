import type { IncomingHttpHeaders } from 'http';
import { AmbiguousError, TransientError } from './channel.errors';
import { HttpRequestError } from './http-client';

/**
 * Classifies a request that got no answer. One that never reached the platform (no connection made)
 * is transient; a timeout or a reset after the connection may have reached it, so on a step that
 * creates something it is ambiguous.
 */
export function requestFailure(platform: string, err: unknown, creates: boolean): Error {
  const neverSent = err instanceof HttpRequestError && err.neverSent;
  const code = err instanceof HttpRequestError ? err.code : ((err as Error)?.message ?? String(err));
  const msg = `${platform} request: ${code}`;
  return creates && !neverSent ? new AmbiguousError(msg) : new TransientError(msg);
}

/** Reset instant from `x-rate-limit-reset` (epoch seconds) or `retry-after` (seconds). */
export function resetFromHeaders(headers: IncomingHttpHeaders, fallbackMs = 60_000): Date {
  const reset = Number(headers['x-rate-limit-reset']);
  if (reset > 0) return new Date(reset * 1000);
  const retryAfter = Number(headers['retry-after']);
  if (retryAfter > 0) return new Date(Date.now() + retryAfter * 1000);
  return new Date(Date.now() + fallbackMs);
}
