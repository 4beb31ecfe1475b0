import { AckLinkSigner } from './ack-link.signer';

describe('AckLinkSigner', () => {
  const signer = new AckLinkSigner('a-secret-of-at-least-thirty-two-characters');
  const taskId = '0193a000-0000-7000-8000-000000000001';

  it('accepts its own unexpired token and gives each link its own nonce', () => {
    const a = signer.check(signer.issue(taskId, 60));
    const b = signer.check(signer.issue(taskId, 60));
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) {
      expect(a.claims.taskId).toBe(taskId);
      expect(a.claims.nonce).not.toBe(b.claims.nonce);
    }
  });

  it('refuses expired, tampered, foreign-key and malformed tokens', () => {
    const now = Date.now();
    expect(signer.check(signer.issue(taskId, 60, now - 61_000), now)).toMatchObject({
      ok: false,
      reason: 'expired',
    });
    const [body, sig] = signer.issue(taskId, 60).split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const longer = Buffer.from(JSON.stringify({ ...claims, e: claims.e + 86_400 })).toString('base64url');
    expect(signer.check(`${longer}.${sig}`)).toEqual({ ok: false, reason: 'bad_signature' });
    const other = new AckLinkSigner('another-secret-of-at-least-thirty-two-chars');
    expect(signer.check(other.issue(taskId, 60))).toEqual({ ok: false, reason: 'bad_signature' });
    for (const bad of ['', 'abc', 'a.b.c', `${body}.`, `${body}.${sig}x`, '<script>.x']) {
      expect(signer.check(bad).ok).toBe(false);
    }
  });
});
