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
  DuplicateContentError,
  RateLimitedError,
  TransientError,
} from './channel.errors';
import { HttpAnswer, HttpClient, multipartBody } from './http-client';
import { requestFailure, resetFromHeaders } from './http-failure';

export interface FacebookAdapterOptions {
  graphBaseUrl: string;
  graphVersion: string;
  timeoutMs: number;
}

interface GraphError {
  error?: { message?: string; type?: string; code?: number; error_subcode?: number; is_transient?: boolean };
}

const RATE_LIMIT_CODES = new Set([4, 17, 32, 613]);
const AUTH_CODES = new Set([102, 190]);
/** (#506) Duplicate status message. */
const DUPLICATE_CODE = 506;

/** Facebook Page via the Graph API: photo post (with alt text), feed post, delete, look up. */
export class FacebookAdapter implements ChannelAdapter {
  readonly platform = 'facebook' as const;

  /** One keep-alive pool for every page (they share the Graph API's host). */
  private readonly http = new HttpClient();

  constructor(private readonly options: FacebookAdapterOptions) {}

  async post(account: ChannelAccount, req: PostRequest, hooks: PostHooks): Promise<RemotePost> {
    const { pageId, pageAccessToken } = account.credentials;
    let body: { data: Buffer; contentType: string };
    let path: string;
    if (req.image) {
      const { data, contentType } = req.image;
      const form = multipartBody(
        {
          message: req.text,
          alt_text_custom: req.image.altText,
          published: 'true',
          access_token: pageAccessToken,
        },
        {
          field: 'source',
          filename: contentType === 'image/png' ? 'ficha.png' : 'ficha.jpg',
          contentType,
          data,
        },
      );
      body = { data: form.body, contentType: form.contentType };
      path = `${pageId}/photos`;
    } else {
      body = {
        data: Buffer.from(
          new URLSearchParams({ message: req.text, access_token: pageAccessToken }).toString(),
        ),
        contentType: 'application/x-www-form-urlencoded',
      };
      path = `${pageId}/feed`;
    }
    await hooks.beforeCreate();
    const json = await this.call<{ id: string; post_id?: string }>('POST', path, body, true);
    const id = json.post_id ?? json.id;
    const remote = { remoteId: id, url: `https://www.facebook.com/${id}` };
    await hooks.onRemoteId(remote);
    return remote;
  }

  async findByMarker(account: ChannelAccount, lookup: PostLookup): Promise<RemotePost[]> {
    const { pageId, pageAccessToken } = account.credentials;
    const qs = new URLSearchParams({ fields: 'id,message', limit: '100', access_token: pageAccessToken });
    const json = await this.call<{ data: { id: string; message?: string }[] }>('GET', `${pageId}/feed?${qs}`);
    // The feed is newest first.
    return json.data
      .filter((p) => p.message?.includes(lookup.marker))
      .reverse()
      .map((p) => ({ remoteId: p.id, url: `https://www.facebook.com/${p.id}` }));
  }

  async delete(account: ChannelAccount, remoteId: string): Promise<void> {
    const qs = new URLSearchParams({ access_token: account.credentials.pageAccessToken });
    await this.call('DELETE', `${encodeURIComponent(remoteId)}?${qs}`, undefined, false, true);
  }

  private async call<T>(
    method: string,
    path: string,
    body?: { data: Buffer; contentType: string },
    creates = false,
    goneOk = false,
  ): Promise<T> {
    let res: HttpAnswer;
    try {
      res = await this.http.request(`${this.options.graphBaseUrl}/${this.options.graphVersion}/${path}`, {
        method,
        headers: body ? { 'content-type': body.contentType } : {},
        body: body?.data,
        timeoutMs: this.options.timeoutMs,
      });
    } catch (err) {
      throw requestFailure('facebook', err, creates);
    }
    const ok = res.status >= 200 && res.status < 300;
    let json: (T & GraphError) | undefined;
    try {
      json = JSON.parse(res.body.toString('utf8')) as T & GraphError;
    } catch {
      if (ok && creates) throw new AmbiguousError('facebook: unreadable answer after posting');
      if (!ok && res.status < 500) throw new BadContentError(`facebook ${res.status}: not JSON`);
      throw creates
        ? new AmbiguousError(`facebook ${res.status}: not JSON`)
        : new TransientError(`facebook ${res.status}: not JSON`);
    }
    if (ok && !json?.error) return json as T;
    const e = json?.error ?? {};
    if (res.status === 429 || RATE_LIMIT_CODES.has(e.code ?? -1)) {
      throw new RateLimitedError(resetFromHeaders(res.headers), `facebook ${res.status}/${e.code}`);
    }
    if (AUTH_CODES.has(e.code ?? -1) || res.status === 401) {
      throw new AuthRevokedError(`facebook ${res.status}/${e.code}: ${e.type ?? ''}`);
    }
    if (goneOk && (res.status === 404 || (e.code === 100 && e.error_subcode === 33))) return {} as T;
    if (creates && e.code === DUPLICATE_CODE) {
      throw new DuplicateContentError(`facebook ${res.status}/${e.code}: duplicate status message`);
    }
    if (res.status >= 500 || e.is_transient) {
      throw creates
        ? new AmbiguousError(`facebook ${res.status}`)
        : new TransientError(`facebook ${res.status}`);
    }
    throw new BadContentError(`facebook ${res.status}/${e.code}: ${(e.message ?? '').slice(0, 200)}`);
  }
}
