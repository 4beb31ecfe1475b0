import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { loadAccountsCatalog } from '../../apps/dissemination/src/accounts/accounts.catalog';
import { generateSandboxCredentials } from '../../apps/sandbox-kit/src/sandbox-credentials';
import type { StoredPost } from '../../apps/sandbox-kit/src/sandbox.server';
import { AccessTokenVerifier, Role } from '../../libs/auth/src';
import { ServiceName, TEST_JWT_SECRET, TestStack, waitFor } from './stack';

/** A post as the sandboxes keep it (GET /_control/posts). */
export type SandboxPost = StoredPost;

export const SANDBOXES = ['x-sandbox', 'facebook-sandbox', 'partner-sandbox'] as const;
const SANDBOX_OF = { x: 'x-sandbox', facebook: 'facebook-sandbox', webhook: 'partner-sandbox' } as const;

export const ACCOUNTS = loadAccountsCatalog().accounts;

/** Random credentials for every account of config/accounts.yaml (shared by dissemination and the sandboxes). */
export function sandboxCredentials(partnerBaseUrl: string): Record<string, Record<string, string>> {
  return generateSandboxCredentials(ACCOUNTS, partnerBaseUrl, 'ck');
}

export interface DisseminationStackOptions {
  disseminationEnv?: Record<string, string>;
  sandboxEnv?: Record<string, string>;
  services?: ServiceName[];
  /** Dissemination with its own crash-recovery defaults (withServiceDefaults). */
  serviceDefaults?: boolean;
}

/**
 * Starts the three sandboxes, then intake, dissemination (pointed at the sandboxes, with the same
 * credentials imported encrypted) and the tracker, with short timeouts/locks so crashes recover fast.
 */
export async function startDisseminationStack(stack: TestStack, options: DisseminationStackOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ar-creds-'));
  const file = join(dir, 'credentials.json');
  // Sandboxes only need the secrets; the partner URL is known once the partner sandbox listens.
  const creds = sandboxCredentials('http://127.0.0.1:1');
  writeFileSync(file, JSON.stringify(creds));
  for (const s of SANDBOXES) await stack.start(s, { SANDBOX_CREDENTIALS_FILE: file, ...options.sandboxEnv });
  const partner = stack.url('partner-sandbox');
  for (const a of ACCOUNTS) if (a.platform === 'webhook') creds[a.id].url = `${partner}/hooks/${a.id}`;
  writeFileSync(file, JSON.stringify(creds));
  const stackEnv = disseminationEnv(stack, file, options.disseminationEnv);
  const env = options.serviceDefaults ? withServiceDefaults(stackEnv) : stackEnv;
  for (const s of options.services ?? ['intake', 'dissemination', 'tracker']) {
    await stack.start(s, s === 'dissemination' ? env : {});
  }
  return { credentialsFile: file, credentials: creds, disseminationEnv: env };
}

export function disseminationEnv(
  stack: TestStack,
  credentialsFile: string,
  extra: Record<string, string> = {},
) {
  return {
    ACCOUNT_CREDENTIALS_FILE: credentialsFile,
    X_API_BASE_URL: stack.url('x-sandbox'),
    X_UPLOAD_BASE_URL: stack.url('x-sandbox'),
    FACEBOOK_GRAPH_BASE_URL: stack.url('facebook-sandbox'),
    // Long enough that a loaded machine does not turn ordinary calls into ambiguous sends (each of which
    // is looked up before anything else), short enough for timeout-after-commit tests.
    CHANNEL_TIMEOUT_MS: '3000',
    RETRY_BASE_MS: '200',
    RETRY_MAX_MS: '2000',
    WITHDRAWAL_RETRY_MAX_MS: '1000',
    WITHDRAWAL_STRAGGLER_ATTEMPTS: '3',
    SWEEP_INTERVAL_MS: '1000',
    REENQUEUE_AFTER_MS: '5000',
    QUEUE_LOCK_DURATION_MS: '3000',
    QUEUE_STALLED_INTERVAL_MS: '1000',
    // A SIGKILLed holder's publications are free again after 6 s; look-ups after an ambiguous send span
    // 0.5 + 1 + 2 + 4 s (the sandboxes' timelines do not lag unless a test says so).
    PUBLICATION_LEASE_MS: '6000',
    MARKER_SEARCH_BACKOFF_MS: '500',
    MARKER_SEARCH_BACKOFF_MAX_MS: '4000',
    LOG_LEVEL: 'info',
    // A SIGKILLed consumer's partitions come back after this (the broker's minimum), not after 30 s.
    CONSUMER_SESSION_TIMEOUT_MS: '6000',
    ...extra,
  };
}

/**
 * The settings crash recovery rests on. The stacks above set their own (longer leases for slow
 * machines, a 6 s session); a case that measures or tests the service as deployed leaves them out.
 */
export const CRASH_RECOVERY_SETTINGS = [
  'QUEUE_LOCK_DURATION_MS',
  'QUEUE_STALLED_INTERVAL_MS',
  'PUBLICATION_LEASE_MS',
  'CONSUMER_SESSION_TIMEOUT_MS',
];

/** `env` without the crash-recovery settings: the service's own defaults apply. */
export function withServiceDefaults(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !CRASH_RECOVERY_SETTINGS.includes(k)));
}

export function sandboxFor(accountId: string): (typeof SANDBOXES)[number] {
  const a = ACCOUNTS.find((x) => x.id === accountId);
  if (!a) throw new Error(`unknown account ${accountId}`);
  return SANDBOX_OF[a.platform];
}

/** Every post the three sandboxes hold (deleted ones included, with deletedAt). */
export async function sandboxPosts(stack: TestStack, containing?: string): Promise<SandboxPost[]> {
  const all: SandboxPost[] = [];
  for (const s of SANDBOXES) {
    const qs = containing ? `?contains=${encodeURIComponent(containing)}` : '';
    const res = await stack.http(s, 'GET', `/_control/posts${qs}`);
    all.push(...(res.body.posts as SandboxPost[]));
  }
  return all;
}

export async function sandboxStats(stack: TestStack): Promise<Record<string, Record<string, number>>> {
  const merged: Record<string, Record<string, number>> = {};
  for (const s of SANDBOXES) {
    const body = (await stack.http(s, 'GET', '/_control/stats')).body as Record<
      string,
      Record<string, number>
    >;
    for (const [metric, counts] of Object.entries(body))
      merged[metric] = { ...(merged[metric] ?? {}), ...counts };
  }
  return merged;
}

export async function setFaults(stack: TestStack, accountId: string, faults: Record<string, unknown>) {
  const res = await stack.http(
    sandboxFor(accountId),
    'POST',
    `/_control/accounts/${accountId}/faults`,
    faults,
  );
  if (res.status !== 200) throw new Error(`faults: ${res.status}`);
  return res.body as { rateLimitedUntil: number };
}

export async function setLatency(stack: TestStack, ms: number): Promise<void> {
  for (const s of SANDBOXES) await stack.http(s, 'POST', '/_control/latency', { ms });
}

/** How long new posts take to show in the X timeline and the Facebook feed (every account without its own). */
export async function setVisibilityLag(stack: TestStack, ms: number): Promise<void> {
  for (const s of SANDBOXES) await stack.http(s, 'POST', '/_control/visibility', { visibleAfterMs: ms });
}

/**
 * Accounts a test left marked revoked get their credentials back (the admin API's rotation), so the next
 * test starts from 30 working accounts.
 */
export async function restoreRevokedAccounts(
  stack: TestStack,
  credentials: Record<string, Record<string, string>>,
): Promise<void> {
  const revoked = await stack.query<{ id: string }>(
    `SELECT id FROM dissemination.accounts WHERE status <> 'ok'`,
  );
  for (const { id } of revoked) {
    await stack.http(
      'dissemination',
      'PUT',
      `/api/v1/accounts/${id}/credentials`,
      { credentials: credentials[id] },
      bearer('admin'),
    );
  }
}

export async function resetSandboxFaults(stack: TestStack): Promise<void> {
  for (const a of ACCOUNTS) {
    await setFaults(stack, a.id, {
      fail5xx: 0,
      timeoutAfterCommit: 0,
      rateLimitForMs: 0,
      revoked: false,
      latencyMs: null,
      visibleAfterMs: null,
    });
  }
  await setLatency(stack, 0);
  await setVisibilityLag(stack, 0);
}

/** Live (not deleted) posts per account that carry `marker`. */
export function livePostsByAccount(posts: SandboxPost[], marker: string): Map<string, SandboxPost[]> {
  const by = new Map<string, SandboxPost[]>();
  for (const p of posts) {
    if (p.deletedAt || !p.text.includes(marker)) continue;
    by.set(p.accountId, [...(by.get(p.accountId) ?? []), p]);
  }
  return by;
}

export async function waitForPosts(stack: TestStack, marker: string, count: number, timeoutMs = 60_000) {
  return waitFor(
    async () => {
      const posts = (await sandboxPosts(stack, marker)).filter((p) => !p.deletedAt);
      return posts.length >= count ? posts : undefined;
    },
    { timeoutMs, intervalMs: 200, what: `${count} posts with ${marker}` },
  );
}

export function token(role: Role, sub = `test-${role}`): string {
  return new AccessTokenVerifier(TEST_JWT_SECRET).sign({ sub, role }, 3600);
}

export function bearer(role: Role): Record<string, string> {
  return { authorization: `Bearer ${token(role)}` };
}

/** An alert's activation fan-out right now: posts made, and sends in flight (claimed under a live lease). */
export async function fanOutProgress(
  stack: TestStack,
  alertId: string,
): Promise<{ posted: number; in_flight: number }> {
  const [s] = await stack.query<{ posted: number; in_flight: number }>(
    `SELECT count(*) FILTER (WHERE status = 'posted')::int AS posted,
            count(*) FILTER (WHERE status = 'pending' AND claim_expires_at > clock_timestamp())::int AS in_flight
       FROM dissemination.publications WHERE alert_id = $1`,
    [alertId],
  );
  return s;
}
