import { Role } from '@alerta-rosa/auth';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'crypto';

/**
 * Tickets that open a server-sent-event stream. EventSource cannot send an Authorization header, and
 * an access token in a URL would end up in proxy and browser logs for its whole lifetime (15 min) with
 * the power to call every API. A ticket instead is obtained with the bearer token (POST, header), is
 * valid for `ttlSeconds` (30 s), only opens a stream, for one scope (one alert, or the live list), and
 * is accepted once per gateway process. The stream it opens ends when the access token it was issued
 * against expires, so a stream never outlives the session: the page asks for a new ticket with a
 * refreshed token and reconnects.
 */
export interface TicketClaims {
  sub: string;
  role: Role;
  areaId: string | null;
  /** Alert id, or null for the stream of every alert the role may see. */
  alertId: string | null;
  /** Ticket expiry (epoch seconds). */
  exp: number;
  /** When the stream must end: the access token's expiry (epoch seconds). */
  until: number;
  nonce: string;
}

export type TicketCheck =
  { ok: true; claims: TicketClaims } | { ok: false; reason: 'invalid' | 'expired' | 'used' };

export class StreamTickets {
  private readonly key: Buffer;
  /** nonce → expiry (ms): tickets already used; entries are dropped once the ticket expired anyway. */
  private readonly used = new Map<string, number>();

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {
    // A key of its own: a ticket is never a valid access token and vice versa.
    this.key = createHash('sha256').update(`alerta-rosa/stream-ticket/v1\0${secret}`).digest();
  }

  issue(input: Omit<TicketClaims, 'exp' | 'nonce'>): { ticket: string; expiresIn: number } {
    const nowS = Math.floor(this.now() / 1000);
    const claims: TicketClaims = {
      ...input,
      exp: Math.min(nowS + this.ttlSeconds, input.until),
      nonce: randomBytes(12).toString('base64url'),
    };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { ticket: `${body}.${this.sign(body)}`, expiresIn: claims.exp - nowS };
  }

  /** Verifies and consumes a ticket. */
  redeem(ticket: string | null | undefined): TicketCheck {
    if (!ticket || ticket.length > 2_000) return { ok: false, reason: 'invalid' };
    const [body, mac, extra] = ticket.split('.');
    if (!body || !mac || extra !== undefined) return { ok: false, reason: 'invalid' };
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return { ok: false, reason: 'invalid' };
    let claims: TicketClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TicketClaims;
    } catch {
      return { ok: false, reason: 'invalid' };
    }
    if (typeof claims.nonce !== 'string' || typeof claims.exp !== 'number')
      return { ok: false, reason: 'invalid' };
    const nowMs = this.now();
    if (claims.exp * 1000 <= nowMs) return { ok: false, reason: 'expired' };
    this.sweep(nowMs);
    if (this.used.has(claims.nonce)) return { ok: false, reason: 'used' };
    this.used.set(claims.nonce, claims.exp * 1000);
    return { ok: true, claims };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  private sweep(nowMs: number): void {
    for (const [nonce, exp] of this.used) if (exp <= nowMs) this.used.delete(nonce);
  }
}
