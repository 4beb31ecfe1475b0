/**
 * How a channel call failed, in the terms the retry policy needs. Adapters translate each platform's
 * errors into exactly one of these; nothing else escapes an adapter.
 */
export type ChannelErrorKind =
  'rate_limited' | 'auth_revoked' | 'bad_content' | 'duplicate' | 'transient' | 'ambiguous';

export abstract class ChannelError extends Error {
  abstract readonly kind: ChannelErrorKind;
}

/** The platform refused for now; nothing was posted. Wait until `resetAt`, spending no attempt. */
export class RateLimitedError extends ChannelError {
  readonly kind = 'rate_limited' as const;
  constructor(
    readonly resetAt: Date,
    message = 'rate limited',
  ) {
    super(message);
  }
}

/** The account's credentials no longer work (revoked, expired, password changed). */
export class AuthRevokedError extends ChannelError {
  readonly kind = 'auth_revoked' as const;
}

/** The platform refuses this content; retrying the same request cannot help. */
export class BadContentError extends ChannelError {
  readonly kind = 'bad_content' as const;
}

/**
 * The platform refuses the post because it repeats one the account already has (X: 403 «duplicate
 * content»). Our texts carry a marker unique to the publication, so the repeated post is ours: it exists.
 */
export class DuplicateContentError extends ChannelError {
  readonly kind = 'duplicate' as const;
}

/** Failed before anything could have been created (connection refused, 5xx on a safe step…): retry. */
export class TransientError extends ChannelError {
  readonly kind = 'transient' as const;
}

/** The request may or may not have taken effect (timeout or reset after sending): look before retrying. */
export class AmbiguousError extends ChannelError {
  readonly kind = 'ambiguous' as const;
}

export function describeError(err: unknown): string {
  const e = err as Error;
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`.slice(0, 500);
}
