import { createHmac, randomBytes, timingSafeEqual } from 'crypto';

export interface AckLinkClaims {
  taskId: string;
  /** Unix seconds. */
  expiresAt: number;
  /** Single-use marker, recorded when the link is used. */
  nonce: string;
}

export type AckLinkCheck =
  | { ok: true; claims: AckLinkClaims }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired'; claims?: AckLinkClaims };

/**
 * Signed acknowledge links: `<base64url(json)>.<base64url(hmac-sha256)>`. The signature makes them
 * unforgeable, `expiresAt` makes them expire, and the nonce (recorded on use) makes them single-use.
 */
export class AckLinkSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    // Domain-separated from whatever else the secret signs.
    this.key = createHmac('sha256', secret).update('alerta-rosa:ack-link:v1').digest();
  }

  issue(taskId: string, ttlSeconds: number, now = Date.now()): string {
    const claims: AckLinkClaims = {
      taskId,
      expiresAt: Math.floor(now / 1000) + ttlSeconds,
      nonce: randomBytes(12).toString('base64url'),
    };
    const body = Buffer.from(
      JSON.stringify({ t: claims.taskId, e: claims.expiresAt, n: claims.nonce }),
    ).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  check(token: string, now = Date.now()): AckLinkCheck {
    const parts = token.split('.');
    if (parts.length !== 2 || !/^[\w-]+$/.test(parts[0]) || !/^[\w-]+$/.test(parts[1]))
      return { ok: false, reason: 'malformed' };
    const expected = Buffer.from(this.sign(parts[0]));
    const given = Buffer.from(parts[1]);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return { ok: false, reason: 'bad_signature' };
    let claims: AckLinkClaims;
    try {
      const json = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      if (typeof json.t !== 'string' || typeof json.e !== 'number' || typeof json.n !== 'string')
        throw new Error();
      claims = { taskId: json.t, expiresAt: json.e, nonce: json.n };
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (claims.expiresAt * 1000 <= now) return { ok: false, reason: 'expired', claims };
    return { ok: true, claims };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
