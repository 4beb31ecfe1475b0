import twitterText from 'twitter-text';
import {
  Sandbox,
  SandboxReply,
  SandboxRequest,
  json,
  parseMultipart,
} from '../../sandbox-kit/src/sandbox.server';
import { verifyOAuth1 } from './oauth1.verifier';

interface XUser {
  accountId: string;
  userId: string;
  accessSecret: string;
}

interface Media {
  id: string;
  /** The uploading account: the only one that may append, finalize and describe it. */
  accountId: string;
  /** User ids that may attach it to a post: the uploader and its `additional_owners`. */
  owners: Set<string>;
  chunks: Buffer[];
  altText: string | null;
  finalized: boolean;
  expiresAt: number;
}

/** Like X, an uploaded media id can be attached (by any of its owners) until it expires: 24 h. */
const MEDIA_TTL_MS = 86_400_000;
/** Upper bound on media kept, so that benchmarks' thousands of uploads keep memory flat. */
const MEDIA_KEPT = 2_000;

/** What X answers (403) to a post whose text repeats a recent post of the same account. */
export const DUPLICATE_CONTENT = {
  detail: 'You are not allowed to create a Tweet with duplicate content.',
  type: 'about:blank',
  title: 'Forbidden',
  status: 403,
};

const unauthorized = { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' };

/**
 * Stand-in for the X API v2 endpoints the adapter uses: chunked media upload, media metadata (alt
 * text), create post (with media, as reply), delete post, user timeline. Every request must carry a
 * valid OAuth 1.0a HMAC-SHA1 signature over the URL actually called.
 */
export function createXSandbox(credentials: Record<string, Record<string, string>>): Sandbox {
  const sb = new Sandbox('x-sandbox');
  const consumers = new Map<string, string>();
  const users = new Map<string, XUser>();
  for (const [accountId, c] of Object.entries(credentials)) {
    if (!c.consumerKey) continue;
    consumers.set(c.consumerKey, c.consumerSecret);
    users.set(c.accessToken, { accountId, userId: c.userId, accessSecret: c.accessSecret });
  }
  const media = new Map<string, Media>();
  let seq = 0n;
  const nextId = () => String(1_860_000_000_000_000_000n + ++seq);

  /** Authenticates, applies latency, revocation and rate limiting; returns the user or the reply to send. */
  async function authenticate(req: SandboxRequest): Promise<XUser | SandboxReply> {
    const ct = String(req.headers['content-type'] ?? '');
    const check = verifyOAuth1({
      method: req.method,
      baseUrl: `http://${req.headers.host}${req.url.pathname}`,
      query: req.url.searchParams,
      formBody: ct.startsWith('application/x-www-form-urlencoded')
        ? new URLSearchParams(req.body.toString('utf8'))
        : undefined,
      authorization: req.headers.authorization,
      consumerSecretOf: (k) => consumers.get(k),
      tokenSecretOf: (t) => users.get(t)?.accessSecret,
    });
    await sb.delay(check.ok ? users.get(check.token)?.accountId : undefined);
    if (!check.ok) return { status: 401, body: { ...unauthorized, detail: check.reason } };
    const user = users.get(check.token)!;
    sb.count('requests', user.accountId);
    if (sb.faultsOf(user.accountId).revoked) {
      sb.count('revokedRefusals', user.accountId);
      return { status: 401, body: unauthorized };
    }
    const limited = sb.rateLimitReply(user.accountId, {
      title: 'Too Many Requests',
      detail: 'Too Many Requests',
      type: 'about:blank',
      status: 429,
    });
    return limited ?? user;
  }

  const ok = (user: XUser, status: number, body: unknown): SandboxReply => ({
    status,
    body,
    headers: sb.rateHeaders(user.accountId),
  });

  sb.route('POST', '/2/media/upload/initialize', async (req) => {
    const user = await authenticate(req);
    if ('status' in user) return user;
    const b = json(req);
    if (b.media_type !== 'image/png' && b.media_type !== 'image/jpeg') {
      return ok(user, 400, { title: 'Invalid Request', detail: 'unsupported media_type', status: 400 });
    }
    const extra: unknown[] = Array.isArray(b.additional_owners) ? b.additional_owners : [];
    if (extra.length > 100 || extra.some((o) => typeof o !== 'string' || !/^[0-9]{1,19}$/.test(o))) {
      return ok(user, 400, {
        title: 'Invalid Request',
        detail: 'additional_owners must be at most 100 user ids',
        status: 400,
      });
    }
    const now = Date.now();
    for (const [key, m] of media) if (m.expiresAt <= now || media.size >= MEDIA_KEPT) media.delete(key);
    const id = nextId();
    media.set(id, {
      id,
      accountId: user.accountId,
      owners: new Set([user.userId, ...(extra as string[])]),
      chunks: [],
      altText: null,
      finalized: false,
      expiresAt: now + MEDIA_TTL_MS,
    });
    sb.count('mediaUploads', user.accountId);
    return ok(user, 200, { data: { id, media_key: `3_${id}`, expires_after_secs: MEDIA_TTL_MS / 1000 } });
  });

  /** Test control: every media id uploaded so far expires now (as after X's 24 h). */
  sb.route('POST', '/_control/media/expire', async () => {
    for (const m of media.values()) m.expiresAt = 0;
    return { status: 200, body: { expired: media.size } };
  });

  sb.route('POST', '/2/media/upload/:id/append', async (req) => {
    const user = await authenticate(req);
    if ('status' in user) return user;
    const m = media.get(req.params.id);
    if (!m || m.accountId !== user.accountId)
      return ok(user, 400, { title: 'Invalid Request', detail: 'unknown media', status: 400 });
    const part = parseMultipart(req.body, String(req.headers['content-type'])).find(
      (p) => p.name === 'media',
    );
    if (!part) return ok(user, 400, { title: 'Invalid Request', detail: 'no media part', status: 400 });
    m.chunks.push(part.data);
    return ok(user, 200, {});
  });

  sb.route('POST', '/2/media/upload/:id/finalize', async (req) => {
    const user = await authenticate(req);
    if ('status' in user) return user;
    const m = media.get(req.params.id);
    if (!m || m.accountId !== user.accountId)
      return ok(user, 400, { title: 'Invalid Request', detail: 'unknown media', status: 400 });
    m.finalized = true;
    return ok(user, 200, {
      data: { id: m.id, media_key: `3_${m.id}`, size: Buffer.concat(m.chunks).length },
    });
  });

  sb.route('POST', '/2/media/metadata', async (req) => {
    const user = await authenticate(req);
    if ('status' in user) return user;
    const b = json(req);
    const m = media.get(String(b.id));
    if (!m || m.accountId !== user.accountId)
      return ok(user, 400, { title: 'Invalid Request', detail: 'unknown media', status: 400 });
    const alt = b.metadata?.alt_text?.text;
    if (typeof alt !== 'string' || alt.length > 1000) {
      return ok(user, 400, {
        title: 'Invalid Request',
        detail: 'alt_text.text must be 1-1000 characters',
        status: 400,
      });
    }
    m.altText = alt;
    return ok(user, 200, { data: { id: m.id, associated_metadata: { alt_text: { text: alt } } } });
  });

  sb.route('POST', '/2/tweets', async (req, res) => {
    const user = await authenticate(req);
    if ('status' in user) return user;
    const b = json(req);
    const text = String(b.text ?? '');
    const parsed = twitterText.parseTweet(text);
    if (!text || !parsed.valid) {
      return ok(user, 400, {
        title: 'Invalid Request',
        detail: `text invalid (weighted length ${parsed.weightedLength})`,
        status: 400,
      });
    }
    const mediaIds: string[] = b.media?.media_ids ?? [];
    const attached = mediaIds.map((id) => media.get(String(id)));
    if (attached.some((m) => !m || !m.finalized || m.expiresAt <= Date.now() || !m.owners.has(user.userId))) {
      return ok(user, 400, { title: 'Invalid Request', detail: 'media not found', status: 400 });
    }
    const replyTo: string | null = b.reply?.in_reply_to_tweet_id ?? null;
    if (replyTo && !sb.posts.some((p) => p.id === replyTo && !p.deletedAt)) {
      return ok(user, 400, { title: 'Invalid Request', detail: 'reply target not found', status: 400 });
    }
    // Like X, refuse a text that repeats a live post of the account. The check is on the write side, so
    // it sees posts that timeline reads do not show yet.
    if (sb.posts.some((p) => p.accountId === user.accountId && !p.deletedAt && p.text === text)) {
      sb.count('duplicatesRefused', user.accountId);
      return ok(user, 403, DUPLICATE_CONTENT);
    }
    if (sb.failBeforeCommit(user.accountId))
      return ok(user, 503, { title: 'Service Unavailable', status: 503 });
    const image = attached[0] ? Buffer.concat(attached[0].chunks) : null;
    const post = sb.store(
      {
        id: nextId(),
        accountId: user.accountId,
        kind: 'tweet',
        text,
        hasImage: !!image,
        imageBytes: image?.length ?? 0,
        altText: attached[0]?.altText ?? null,
        replyTo,
        extra: { userId: user.userId },
      },
      image,
    );
    if (sb.hangAfterCommit(user.accountId, res)) return 'handled';
    return ok(user, 201, { data: { id: post.id, text: post.text, edit_history_tweet_ids: [post.id] } });
  });

  sb.route('DELETE', '/2/tweets/:id', async (req) => {
    const user = await authenticate(req);
    if ('status' in user) return user;
    const post = sb.posts.find((p) => p.id === req.params.id && p.kind === 'tweet');
    if (!post || post.deletedAt)
      return ok(user, 404, { title: 'Not Found Error', detail: 'Could not find tweet', status: 404 });
    if (post.accountId !== user.accountId)
      return ok(user, 403, { title: 'Forbidden', detail: 'not your tweet', status: 403 });
    post.deletedAt = new Date().toISOString();
    return ok(user, 200, { data: { deleted: true } });
  });

  sb.route('GET', '/2/users/:userId/tweets', async (req) => {
    const user = await authenticate(req);
    if ('status' in user) return user;
    const max = Math.min(100, Number(req.url.searchParams.get('max_results') ?? 10));
    const now = Date.now();
    const tweets = sb.posts
      .filter(
        (p) =>
          p.kind === 'tweet' &&
          !p.deletedAt &&
          (p.extra?.userId as string) === req.params.userId &&
          sb.isVisible(p, now),
      )
      .slice(-max)
      .reverse()
      .map((p) => ({ id: p.id, text: p.text, edit_history_tweet_ids: [p.id] }));
    const meta = {
      result_count: tweets.length,
      ...(tweets.length ? { newest_id: tweets[0].id, oldest_id: tweets[tweets.length - 1].id } : {}),
    };
    return ok(user, 200, tweets.length ? { data: tweets, meta } : { meta });
  });

  return sb;
}
