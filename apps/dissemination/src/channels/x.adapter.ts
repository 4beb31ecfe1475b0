import { createHash } from 'crypto';
import * as http from 'http';
import * as https from 'https';
import {
  ApiPartialResponseError,
  ApiRequestError,
  ApiResponseError,
  ITwitterApiClientPlugin,
  TwitterApi,
} from 'twitter-api-v2';
import {
  ChannelAccount,
  ChannelAdapter,
  PostHooks,
  PostImage,
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

/**
 * How long an uploaded media id is reused for further posts: well inside the 24 h X keeps it, and longer
 * than any alert version's posts and retries take.
 */
const MEDIA_REUSE_MS = 3_600_000;
const MEDIA_KEPT = 64;

interface UploadedMedia {
  /** consumerKey of the app it was uploaded through. */
  app: string;
  /** Image bytes and alt text. */
  digest: string;
  uploader: string;
  /** User ids that may attach it: the uploader and its additional owners. */
  owners: Set<string>;
  mediaId: Promise<string>;
  expiresAt: number;
}

/** X (Twitter) API v2 with OAuth 1.0a user context: post with media + alt text, reply, delete, look up. */
export class XAdapter implements ChannelAdapter {
  readonly platform = 'x' as const;
  private readonly clients = new Map<string, TwitterApi>();
  /** Media uploaded by this process, by upload (see mediaFor). */
  private readonly media = new Map<string, UploadedMedia>();
  private uploads = 0;
  private readonly agent: http.Agent;

  constructor(private readonly options: XAdapterOptions) {
    // One keep-alive pool for every X account (they share the API's host): room for each account's
    // posts and withdrawals in flight at once (16 accounts × (2 + 8)), so no call waits for a socket.
    const pool = { keepAlive: true, maxSockets: 256 };
    this.agent = options.apiBaseUrl.startsWith('http://') ? new http.Agent(pool) : new https.Agent(pool);
  }

  async post(account: ChannelAccount, req: PostRequest, hooks: PostHooks): Promise<RemotePost> {
    const client = this.client(account);
    const tweet = (mediaId: string | null) =>
      guard('create', () =>
        client.v2.tweet({
          text: req.text,
          ...(mediaId ? { media: { media_ids: [mediaId] } } : {}),
          ...(req.replyToRemoteId ? { reply: { in_reply_to_tweet_id: req.replyToRemoteId } } : {}),
        }),
      );
    const media = req.image ? await this.mediaFor(account, req.image, req.shareImageWith ?? []) : null;
    await hooks.beforeCreate();
    let created;
    try {
      created = await tweet(media?.id ?? null);
    } catch (err) {
      // A media id shared by another account's upload that X no longer accepts for this one (expired,
      // owners changed): the post was refused outright, so it is sent once more with its own upload.
      if (!(media?.shared && err instanceof BadContentError)) throw err;
      this.forget(media.key);
      await hooks.refused();
      const own = await this.uploadFor(account, req.image!, []);
      await hooks.beforeCreate();
      created = await tweet(own);
    }
    const id = created.data.id;
    const remote = { remoteId: id, url: this.urlOf(account, id) };
    await hooks.onRemoteId(remote);
    return remote;
  }

  /**
   * Uploads an image (with its alt text) for `uploader` and the accounts of the same app in `group`,
   * ahead of their posts: a later `post` of any of them with this image uses the media id at once.
   * Only a head start: a failure is left for the posts to meet (each then uploads its own).
   */
  async prepareMedia(uploader: ChannelAccount, image: PostImage, group: ChannelAccount[]): Promise<void> {
    await this.mediaFor(uploader, image, group).catch(() => undefined);
  }

  /**
   * The media id this account attaches: one already uploaded (or being uploaded) for it as an owner,
   * else a new upload shared with the accounts of its app in `group` (X `additional_owners`: uploaded
   * once, attachable by each owner for 24 h). Accounts of other apps get an upload of their own.
   */
  private async mediaFor(
    account: ChannelAccount,
    image: PostImage,
    group: ChannelAccount[],
  ): Promise<{ id: string; shared: boolean; key: string }> {
    const app = account.credentials.consumerKey;
    const userId = account.credentials.userId;
    const digest = createHash('sha256').update(image.data).update('\0').update(image.altText).digest('hex');
    const now = Date.now();
    for (const [key, entry] of this.media) {
      if (entry.expiresAt <= now) this.media.delete(key);
      else if (entry.app === app && entry.digest === digest && entry.owners.has(userId)) {
        try {
          return { id: await entry.mediaId, shared: entry.uploader !== account.id, key };
        } catch {
          this.forget(key); // that upload failed: this post makes its own
          break;
        }
      }
    }
    const owners = group
      .filter((a) => a.id !== account.id && a.credentials.consumerKey === app && a.credentials.userId)
      .map((a) => a.credentials.userId)
      .slice(0, 100); // X takes at most 100 additional owners
    const key = String(++this.uploads);
    const mediaId = this.uploadFor(account, image, owners);
    this.media.set(key, {
      app,
      digest,
      uploader: account.id,
      owners: new Set([userId, ...owners]),
      mediaId,
      expiresAt: now + MEDIA_REUSE_MS,
    });
    while (this.media.size > MEDIA_KEPT) this.media.delete(this.media.keys().next().value!);
    try {
      return { id: await mediaId, shared: false, key };
    } catch (err) {
      this.forget(key);
      throw err;
    }
  }

  private forget(key: string): void {
    this.media.delete(key);
  }

  /** Chunked upload (initialize, append, finalize) and the alt text. */
  private async uploadFor(
    account: ChannelAccount,
    image: PostImage,
    additionalOwners: string[],
  ): Promise<string> {
    const client = this.client(account);
    const mediaId = await guard('safe', () =>
      client.v2.uploadMedia(image.data, {
        media_type: image.contentType,
        ...(additionalOwners.length ? { additional_owners: additionalOwners } : {}),
      }),
    );
    await guard('safe', () => client.v2.createMediaMetadata(mediaId, { alt_text: { text: image.altText } }));
    return mediaId;
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
      client = new TwitterApi(
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
