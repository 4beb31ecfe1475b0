import { StreamTickets } from './stream-ticket';

const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';
const claims = { sub: 'u1', role: 'operadora' as const, areaId: null, alertId: 'a1', until: 2_000_000_000 };

describe('stream tickets (EventSource cannot send the bearer token)', () => {
  it('opens one stream: a second use of the same ticket is refused', () => {
    const tickets = new StreamTickets(SECRET, 30);
    const { ticket, expiresIn } = tickets.issue(claims);
    expect(expiresIn).toBe(30);
    const first = tickets.redeem(ticket);
    expect(first).toMatchObject({ ok: true, claims: { sub: 'u1', alertId: 'a1', until: claims.until } });
    expect(tickets.redeem(ticket)).toEqual({ ok: false, reason: 'used' });
  });

  it('expires after its lifetime, and never outlives the access token', () => {
    let now = 1_700_000_000_000;
    const tickets = new StreamTickets(SECRET, 30, () => now);
    const { ticket } = tickets.issue(claims);
    now += 31_000;
    expect(tickets.redeem(ticket)).toEqual({ ok: false, reason: 'expired' });
    const short = tickets.issue({ ...claims, until: Math.floor(now / 1000) + 5 });
    expect(short.expiresIn).toBe(5);
  });

  it('refuses a tampered, foreign or malformed ticket', () => {
    const tickets = new StreamTickets(SECRET, 30);
    const { ticket } = tickets.issue(claims);
    const [body, mac] = ticket.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), role: 'admin' }),
    ).toString('base64url');
    expect(tickets.redeem(`${forged}.${mac}`)).toEqual({ ok: false, reason: 'invalid' });
    const other = new StreamTickets(`${SECRET}-other`, 30).issue(claims).ticket;
    expect(tickets.redeem(other)).toEqual({ ok: false, reason: 'invalid' });
    for (const bad of ['', 'abc', 'a.b.c', null, undefined])
      expect(tickets.redeem(bad)).toMatchObject({ ok: false });
  });
});
