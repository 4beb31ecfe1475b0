import { TestStack, minimalFicha, waitFor } from '../support/stack';
import { ACCOUNTS, sandboxPosts, setLatency, startDisseminationStack } from '../support/dissemination';

/**
 * The send lease outlives a slow platform: its holder's process renews every lease it holds, together,
 * every third of the lease length. An X post's chain before its create (chunked upload, alt text) takes
 * longer here than the whole lease; without renewal the create would be refused to its own holder.
 */
describe('send leases on a slow platform', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.create();
    await startDisseminationStack(stack, {
      disseminationEnv: { PUBLICATION_LEASE_MS: '1000', CHANNEL_TIMEOUT_MS: '5000' },
    });
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  it('renews the leases of sends slower than the lease while they work, and posts once on each account under the first claim', async () => {
    await setLatency(stack, 800);
    const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 33 }));
    expect(res.status).toBe(201);
    const alertId: string = res.body.id;
    const folio: string = res.body.folio;

    // Each claim's expiries seen while its send has not started (only renewals move them then).
    const expiries = new Map<string, Set<number>>();
    const accountOfToken = new Map<string, string>();
    let done = false;
    const watching = (async () => {
      while (!done) {
        const rows = await stack.query<{ account_id: string; claim_token: string; expires: number }>(
          `SELECT p.account_id, p.claim_token::text AS claim_token,
                  (extract(epoch FROM p.claim_expires_at) * 1000)::bigint AS expires
             FROM dissemination.publications p
            WHERE p.alert_id = $1 AND p.status = 'pending' AND p.claim_token IS NOT NULL
              AND p.send_started_at IS NULL`,
          [alertId],
        );
        for (const r of rows) {
          accountOfToken.set(r.claim_token, r.account_id);
          let set = expiries.get(r.claim_token);
          if (!set) expiries.set(r.claim_token, (set = new Set()));
          set.add(Number(r.expires));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    const rows = await waitFor(
      async () => {
        const r = await stack.query<{ account_id: string; status: string; attempts: number }>(
          `SELECT account_id, status, attempts FROM dissemination.publications WHERE alert_id = $1 AND kind = 'activation'`,
          [alertId],
        );
        return r.length === 30 && r.every((p) => p.status === 'posted') ? r : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: '30 posts' },
    );
    done = true;
    await watching;
    await setLatency(stack, 0);

    // One send each: the first claim's create went through (no attempt spent on a refused create).
    expect(rows.every((p) => p.attempts === 1)).toBe(true);
    const posts = await sandboxPosts(stack, `Folio ${folio} (v1)`);
    const perAccount = new Map<string, number>();
    for (const p of posts) perAccount.set(p.accountId, (perAccount.get(p.accountId) ?? 0) + 1);
    expect([...perAccount.values()].every((n) => n === 1)).toBe(true);
    expect(perAccount.size).toBe(30);

    // The X accounts' claims were renewed while their uploads ran (more than one expiry per claim), and
    // each X account was claimed once: its lease never lapsed into a second claim.
    const xAccounts = new Set(ACCOUNTS.filter((a) => a.platform === 'x').map((a) => a.id));
    const xClaims = [...expiries.entries()].filter(([token]) => xAccounts.has(accountOfToken.get(token)!));
    expect(xClaims.length).toBeGreaterThan(0);
    const renewed = xClaims.filter(([, set]) => set.size >= 2).length;
    expect(renewed).toBe(xClaims.length);
    const claimsPerAccount = new Map<string, number>();
    for (const [token] of xClaims) {
      const account = accountOfToken.get(token)!;
      claimsPerAccount.set(account, (claimsPerAccount.get(account) ?? 0) + 1);
    }
    expect([...claimsPerAccount.values()].every((n) => n === 1)).toBe(true);
  });
});
