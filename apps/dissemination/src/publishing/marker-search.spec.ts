import { disseminationConfigSchema } from '../dissemination.config';
import { absenceEstablished, nextLookupAt, searchWindowMs, waitAfterMiss } from './marker-search';

const policy = { attempts: 5, backoffMs: 2_000, backoffMaxMs: 30_000 };

describe('marker search after a send that may have posted', () => {
  it('spaces look-ups that find nothing, doubling up to the cap, and concludes absence only after enough of them', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => waitAfterMiss(n, policy))).toEqual([
      2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
    expect(searchWindowMs(policy)).toBe(30_000);
    expect(absenceEstablished(4, policy)).toBe(false);
    expect(absenceEstablished(5, policy)).toBe(true);
    const last = new Date('2026-12-01T12:00:00Z');
    expect(nextLookupAt(0, null, policy)).toBe(0);
    expect(nextLookupAt(3, last, policy)).toBe(last.getTime() + 8_000);
  });

  it('is configured and validated at start-up', () => {
    const base = { AUTH_JWT_SECRET: 'x'.repeat(40) };
    const ok = disseminationConfigSchema.parse(base);
    expect([ok.MARKER_SEARCH_ATTEMPTS, ok.MARKER_SEARCH_BACKOFF_MS, ok.PUBLICATION_LEASE_MS]).toEqual([
      5, 2_000, 3_000,
    ]);
    // Crash recovery within seconds: short locks and lease, the broker's minimum session timeout.
    expect([ok.QUEUE_LOCK_DURATION_MS, ok.QUEUE_STALLED_INTERVAL_MS, ok.CONSUMER_SESSION_TIMEOUT_MS]).toEqual(
      [3_000, 500, 6_000],
    );
    for (const bad of [
      { MARKER_SEARCH_ATTEMPTS: '1' },
      { MARKER_SEARCH_BACKOFF_MS: '10' },
      { MARKER_SEARCH_BACKOFF_MS: '5000', MARKER_SEARCH_BACKOFF_MAX_MS: '1000' },
      { PUBLICATION_LEASE_MS: '100' },
      { QUEUE_LOCK_DURATION_MS: '2000', QUEUE_STALLED_INTERVAL_MS: '3000' },
      { QUEUE_STALLED_INTERVAL_MS: '100' },
      { CONSUMER_SESSION_TIMEOUT_MS: '3000' },
    ]) {
      expect({ bad, ok: disseminationConfigSchema.safeParse({ ...base, ...bad }).success }).toEqual({
        bad,
        ok: false,
      });
    }
  });
});
