import * as http from 'http';
import * as https from 'https';
import type { ApiRequestError, ApiResponseError, ITwitterApiClientPlugin, TwitterApi } from 'twitter-api-v2';

/** twitter-api-v2 is loaded with the first X client, not at start-up (fewer modules before ready). */
function twitterApi(): typeof import('twitter-api-v2') {
  return require('twitter-api-v2') as typeof import('twitter-api-v2');
}

/** Loads the X client library ahead of the first post (a warm-up once the service is ready). */
export function loadXClient(): void {
  twitterApi();
}
import {
  ChannelAccount,
  ChannelAdapter,
  PostHooks,
  PostLookup,
  PostRequest,
  RemotePost,
} from './channel.adapter';
import {
  AmbiguousError,
  AuthRevokedError,
  BadContentError,
  ChannelError,
  DuplicateContentError,
  RateLimitedError,
  TransientError,
} from './channel.errors';

export interface XAdapterOptions {
  apiBaseUrl: string;
  uploadBaseUrl: string;
  timeoutMs: number;
}

/**
 * twitter-api-v2 has no base-URL setting: this plugin rewrites the request URL (before it is signed,
 * so the OAuth 1.0a signature covers the URL actually called) and sets the per-request timeout.
 */
export function baseUrlPlugin(options: XAdapterOptions): ITwitterApiClientPlugin {
  return {
    onBeforeRequestConfig({ params }) {
      params.url = params.url
        .replace(/^https:\/\/api\.x\.com/, options.apiBaseUrl)
        .replace(/^https:\/\/upload\.x\.com/, options.uploadBaseUrl);
      params.timeout = options.timeoutMs;
    },
  };
}

/** X (Twitter) API v2 with OAuth 1.0a user context: post with media + alt text, reply, delete, look up. */
export class XAdapter implements ChannelAdapter {
  readonly platform = 'x' as const;
  private readonly clients = new Map<string, TwitterApi>();
  private readonly agent: http.Agent;

  constructor(private readonly options: XAdapterOptions) {
    // One keep-alive pool for every X account (they share the API's host): room for each account's
    // posts and withdrawals in flight at once (16 accounts × (2 + 8)), so no call waits for a socket.
    const pool = { keepAlive: true, maxSockets: 256 };
    this.agent = options.apiBaseUrl.startsWith('http://') ? new http.Agent(pool) : new https.Agent(pool);
  }

  async post(account: ChannelAccount, req: PostRequest, hooks: PostHooks): Promise<RemotePost> {
    const client = this.client(account);
    let mediaIds: [string] | undefined;
    if (req.image) {
      const mediaId = await guard('safe', () =>
        client.v2.uploadMedia(req.image!.png, { media_type: 'image/png' }),
      );
      await guard('safe', () =>
        client.v2.createMediaMetadata(mediaId, { alt_text: { text: req.image!.altText } }),
      );
      mediaIds = [mediaId];
    }
    await hooks.beforeCreate();
    const created = await guard('create', () =>
      client.v2.tweet({
        text: req.text,
        ...(mediaIds ? { media: { media_ids: mediaIds } } : {}),
        ...(req.replyToRemoteId ? { reply: { in_reply_to_tweet_id: req.replyToRemoteId } } : {}),
      }),
    );
    const id = created.data.id;
    await hooks.onRemoteId(id);
    return { remoteId: id, url: this.urlOf(account, id) };
  }

  async findByMarker(account: ChannelAccount, lookup: PostLookup): Promise<RemotePost[]> {
    const client = this.client(account);
    const timeline = await guard('safe', () =>
      client.v2.userTimeline(account.credentials.userId, { max_results: 100, exclude: ['retweets'] }),
    );
    // The timeline is newest first.
    return timeline.tweets
      .filter((t) => t.text.includes(lookup.marker))
      .reverse()
      .map((t) => ({ remoteId: t.id, url: this.urlOf(account, t.id) }));
  }

  async delete(account: ChannelAccount, remoteId: string): Promise<void> {
    const client = this.client(account);
    try {
      await guard('safe', () => client.v2.deleteTweet(remoteId), true);
    } catch (err) {
      if (err instanceof NotFound) return;
      throw err;
    }
  }

  private urlOf(account: ChannelAccount, id: string): string {
    return `https://x.com/${account.handle.replace(/^@/, '')}/status/${id}`;
  }

  private client(account: ChannelAccount): TwitterApi {
    const c = account.credentials;
    const key = `${account.id}:${c.accessToken}:${c.consumerKey}`;
    let client = this.clients.get(key);
    if (!client) {
      for (const k of this.clients.keys()) if (k.startsWith(`${account.id}:`)) this.clients.delete(k);
      client = new (twitterApi().TwitterApi)(
        {
          appKey: c.consumerKey,
          appSecret: c.consumerSecret,
          accessToken: c.accessToken,
          accessSecret: c.accessSecret,
        },
        { plugins: [baseUrlPlugin(this.options)], httpAgent: this.agent },
      );
      this.clients.set(key, client);
    }
    return client;
  }
}

class NotFound extends Error {}

/**
 * Runs one X call and classifies its failure. On the step that creates the post ('create'), a timeout
 * or broken connection after sending, or a 5xx, may have posted: ambiguous. On other steps: transient.
 */
async function guard<T>(step: 'safe' | 'create', call: () => Promise<T>, notFoundOk = false): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ChannelError) throw err;
    const { ApiPartialResponseError, ApiRequestError, ApiResponseError } = twitterApi();
    if (err instanceof ApiResponseError) {
      if (err.code === 429) {
        const reset = err.rateLimit?.reset;
        throw new RateLimitedError(new Date(reset ? reset * 1000 : Date.now() + 60_000), `x 429`);
      }
      if (err.code === 401) throw new AuthRevokedError(`x 401: ${detail(err)}`);
      if (err.code === 404 && notFoundOk) throw new NotFound();
      if (err.code === 403 && step === 'create' && /duplicate content/i.test(detail(err))) {
        throw new DuplicateContentError(`x 403: ${detail(err)}`);
      }
      if (err.code >= 500) {
        throw step === 'create' ? new AmbiguousError(`x ${err.code}`) : new TransientError(`x ${err.code}`);
      }
      throw new BadContentError(`x ${err.code}: ${detail(err)}`);
    }
    if (err instanceof ApiPartialResponseError) {
      throw step === 'create'
        ? new AmbiguousError('x partial response')
        : new TransientError('x partial response');
    }
    if (err instanceof ApiRequestError) {
      const cause = requestCause(err);
      const neverSent = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(
        cause?.code ?? '',
      );
      const msg = `x request: ${cause?.code ?? cause?.message ?? 'error'}`;
      throw step === 'create' && !neverSent ? new AmbiguousError(msg) : new TransientError(msg);
    }
    throw new TransientError(`x: ${(err as Error).message}`);
  }
}

/**
 * The network error behind an ApiRequestError. twitter-api-v2 1.29.1 stores it under `_options.error`
 * while its `requestError` getter reads `_options.requestError`, which is never set (ARCHITECTURE
 * pitfall 13): read both, defensively. Pinned by x.adapter.spec.ts.
 */
export function requestCause(err: ApiRequestError): NodeJS.ErrnoException | undefined {
  const options = (err as unknown as { _options?: { error?: unknown; requestError?: unknown } })._options;
  const cause = err.requestError ?? options?.requestError ?? options?.error;
  return cause && typeof cause === 'object' ? (cause as NodeJS.ErrnoException) : undefined;
}

function detail(err: ApiResponseError): string {
  const data = err.data as { detail?: string; title?: string } | undefined;
  return String(data?.detail ?? data?.title ?? '').slice(0, 200);
}
