import { createHmac, timingSafeEqual } from 'crypto';
import { Sandbox, SandboxReply, SandboxRequest, json } from '../../sandbox-kit/src/sandbox.server';

/**
 * Stand-in for partner webhook receivers (media outlets, messaging gateways): checks the HMAC-SHA256
 * signature and timestamp, deduplicates deliveries by Idempotency-Key, accepts withdrawals (DELETE).
 */
export function createPartnerSandbox(credentials: Record<string, Record<string, string>>): Sandbox {
  const sb = new Sandbox('partner-sandbox');
  const secrets = new Map<string, string>();
  for (const [accountId, c] of Object.entries(credentials))
    if (c.secret && c.url) secrets.set(accountId, c.secret);
  const byKey = new Map<string, string>();
  let seq = 0;

  async function authenticate(
    req: SandboxRequest,
    accountId: string,
    body: string,
  ): Promise<SandboxReply | null> {
    await sb.delay(accountId);
    const secret = secrets.get(accountId);
    const ts = String(req.headers['x-alerta-rosa-timestamp'] ?? '');
    const sig = String(req.headers['x-alerta-rosa-signature'] ?? '');
    if (!secret) return { status: 404, body: { error: 'unknown partner' } };
    const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
    const fresh = Math.abs(Date.now() / 1000 - Number(ts)) <= 300;
    if (
      !fresh ||
      expected.length !== sig.length ||
      !timingSafeEqual(Buffer.from(expected), Buffer.from(sig))
    ) {
      return { status: 401, body: { error: 'bad signature' } };
    }
    sb.count('requests', accountId);
    if (sb.faultsOf(accountId).revoked) {
      sb.count('revokedRefusals', accountId);
      return { status: 401, body: { error: 'partner revoked the secret' } };
    }
    return sb.rateLimitReply(accountId, { error: 'too many requests' });
  }

  sb.route('POST', '/hooks/:accountId', async (req, res) => {
    const accountId = req.params.accountId;
    const refused = await authenticate(req, accountId, req.body.toString('utf8'));
    if (refused) return refused;
    const key = String(req.headers['idempotency-key'] ?? '');
    if (!key) return { status: 400, body: { error: 'Idempotency-Key required' } };
    const seen = byKey.get(`${accountId}:${key}`);
    if (seen) return { status: 200, body: { id: seen, duplicate: true } };
    if (sb.failBeforeCommit(accountId)) return { status: 503, body: { error: 'unavailable' } };
    const b = json(req);
    const image = b.image?.base64 ? Buffer.from(String(b.image.base64), 'base64') : null;
    const post = sb.store(
      {
        id: `hook-${++seq}`,
        accountId,
        kind: 'webhook',
        text: String(b.text ?? ''),
        hasImage: !!image,
        imageBytes: image?.length ?? 0,
        altText: b.image?.altText ?? null,
        replyTo: b.replyTo ?? null,
        extra: { idempotencyKey: key, marker: b.marker },
      },
      image,
    );
    byKey.set(`${accountId}:${key}`, post.id);
    if (sb.hangAfterCommit(accountId, res)) return 'handled';
    return { status: 201, body: { id: post.id } };
  });

  // Look-up of a delivery by its Idempotency-Key (after an ambiguous delivery, or to withdraw one whose id
  // was never received): partners keep the keys they have seen, so the answer is immediate and certain.
  sb.route('GET', '/hooks/:accountId', async (req) => {
    const accountId = req.params.accountId;
    const refused = await authenticate(req, accountId, '');
    if (refused) return refused;
    const key = req.url.searchParams.get('idempotencyKey') ?? '';
    const id = key ? byKey.get(`${accountId}:${key}`) : undefined;
    const post = id ? sb.posts.find((p) => p.id === id && !p.deletedAt) : undefined;
    if (!post) return { status: 404, body: { error: 'not found' } };
    return { status: 200, body: { id: post.id } };
  });

  sb.route('DELETE', '/hooks/:accountId/:id', async (req) => {
    const accountId = req.params.accountId;
    const refused = await authenticate(req, accountId, '');
    if (refused) return refused;
    const post = sb.posts.find((p) => p.id === req.params.id && p.accountId === accountId);
    if (!post || post.deletedAt) return { status: 404, body: { error: 'not found' } };
    post.deletedAt = new Date().toISOString();
    return { status: 200, body: { deleted: true } };
  });

  return sb;
}
