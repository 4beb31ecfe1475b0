import { createHmac } from 'crypto';
import {
  ChannelAccount,
  ChannelAdapter,
  PostHooks,
  PostLookup,
  PostRequest,
  RemotePost,
} from './channel.adapter';
import {
  AuthRevokedError,
  BadContentError,
  ChannelError,
  RateLimitedError,
  TransientError,
} from './channel.errors';
import { HttpAnswer, HttpClient } from './http-client';
import { requestFailure, resetFromHeaders } from './http-failure';

export interface WebhookAdapterOptions {
  timeoutMs: number;
  /** Quick in-adapter retries of a delivery (safe: partners deduplicate by Idempotency-Key). */
  retries?: number;
  retryDelayMs?: number;
}

/** Signature partners verify: HMAC-SHA256 over `<timestamp>.<body>` with the account's shared secret. */
export function signWebhook(secret: string, timestamp: string, body: string | Buffer): string {
  // Fed in parts: a body with a card (~0.5 MB of base64) is not copied into one more string.
  return `sha256=${createHmac('sha256', secret).update(timestamp).update('.').update(body).digest('hex')}`;
}

/**
 * The card's base64, once per image buffer: every partner account of an alert version is sent the same
 * buffer (rendered once), and encoding it per account was the adapter's main cost.
 */
const base64Of = new WeakMap<Buffer, Buffer>();
function imageBase64(data: Buffer): Buffer {
  let encoded = base64Of.get(data);
  if (!encoded) {
    encoded = Buffer.from(data.toString('base64'), 'latin1');
    base64Of.set(data, encoded);
  }
  return encoded;
}

/**
 * The delivery's JSON as bytes, built once per post: the fields, then the image (last) with its base64
 * spliced in as bytes rather than through JSON.stringify and a UTF-8 encoding of half a megabyte.
 */
export function webhookBody(req: PostRequest): Buffer {
  const fields = {
    type: 'alerta-rosa.publication',
    idempotencyKey: req.idempotencyKey,
    marker: req.marker,
    text: req.text,
    replyTo: req.replyToRemoteId ?? null,
    data: req.data ?? {},
  };
  if (!req.image) return Buffer.from(JSON.stringify({ ...fields, image: null }));
  const head = JSON.stringify({
    ...fields,
    image: { contentType: req.image.contentType, altText: req.image.altText },
  });
  // `head` ends with the image object's and the delivery's closing braces: `…"altText":"…"}}`.
  return Buffer.concat([
    Buffer.from(`${head.slice(0, -2)},"base64":"`),
    imageBase64(req.image.data),
    Buffer.from('"}}'),
  ]);
}

/**
 * Partner webhooks (media outlets, messaging gateways): HMAC-signed JSON. A delivery carries an
 * Idempotency-Key, so retrying after a timeout cannot make the partner publish twice.
 */
export class WebhookAdapter implements ChannelAdapter {
  readonly platform = 'webhook' as const;

  /** One keep-alive pool for every partner. */
  private readonly http = new HttpClient();

  constructor(private readonly options: WebhookAdapterOptions) {}

  async post(account: ChannelAccount, req: PostRequest, hooks: PostHooks): Promise<RemotePost> {
    const body = webhookBody(req);
    await hooks.beforeCreate();
    const json = await this.withRetries(() =>
      this.send<{ id: string; url?: string }>(
        account,
        'POST',
        account.credentials.url,
        body,
        req.idempotencyKey,
      ),
    );
    const remote = { remoteId: json.id, url: json.url ?? null };
    await hooks.onRemoteId(remote);
    return remote;
  }

  /**
   * Partners keep the Idempotency-Keys they have seen: `GET <url>?idempotencyKey=…` answers the delivery
   * (200 {id}) or 404. Their answer does not lag; re-delivery with the same key is also safe.
   */
  async findByMarker(account: ChannelAccount, lookup: PostLookup): Promise<RemotePost[]> {
    const url = `${account.credentials.url}?${new URLSearchParams({ idempotencyKey: lookup.idempotencyKey })}`;
    const json = await this.withRetries(() =>
      this.send<{ id?: string; url?: string }>(account, 'GET', url, '', lookup.idempotencyKey, true),
    );
    return json.id ? [{ remoteId: json.id, url: json.url ?? null }] : [];
  }

  async delete(account: ChannelAccount, remoteId: string): Promise<void> {
    const url = `${account.credentials.url}/${encodeURIComponent(remoteId)}`;
    await this.withRetries(() => this.send(account, 'DELETE', url, '', `withdraw-${remoteId}`, true));
  }

  private async withRetries<T>(fn: () => Promise<T>): Promise<T> {
    const retries = this.options.retries ?? 2;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const retriable =
          err instanceof ChannelError && (err.kind === 'transient' || err.kind === 'ambiguous');
        if (!retriable || attempt >= retries) throw err;
        await new Promise((r) => setTimeout(r, (this.options.retryDelayMs ?? 200) * 2 ** attempt));
      }
    }
  }

  private async send<T>(
    account: ChannelAccount,
    method: string,
    url: string,
    body: string | Buffer,
    idempotencyKey: string,
    goneOk = false,
  ): Promise<T> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    let res: HttpAnswer;
    try {
      res = await this.http.request(url, {
        method,
        body: method === 'DELETE' || method === 'GET' ? undefined : body,
        headers: {
          'content-type': 'application/json',
          'idempotency-key': idempotencyKey,
          'x-alerta-rosa-account': account.id,
          'x-alerta-rosa-timestamp': timestamp,
          'x-alerta-rosa-signature': signWebhook(account.credentials.secret, timestamp, body),
        },
        timeoutMs: this.options.timeoutMs,
      });
    } catch (err) {
      throw requestFailure('webhook', err, method === 'POST');
    }
    const text = res.body.toString('utf8');
    if (res.status >= 200 && res.status < 300) return (text ? JSON.parse(text) : {}) as T;
    if (goneOk && (res.status === 404 || res.status === 410)) return {} as T;
    if (res.status === 429) throw new RateLimitedError(resetFromHeaders(res.headers), 'webhook 429');
    if (res.status === 401 || res.status === 403) throw new AuthRevokedError(`webhook ${res.status}`);
    if (res.status >= 500 || res.status === 408) throw new TransientError(`webhook ${res.status}`);
    throw new BadContentError(`webhook ${res.status}`);
  }
}
