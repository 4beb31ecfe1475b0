import { createHmac, timingSafeEqual } from 'crypto';

/** RFC 3986 percent-encoding, as OAuth 1.0a requires. */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function parseOAuthHeader(header: string | undefined): Record<string, string> | null {
  if (!header?.startsWith('OAuth ')) return null;
  const out: Record<string, string> = {};
  for (const m of header.slice(6).matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) out[m[1]] = decodeURIComponent(m[2]);
  return out;
}

/** Signature base string (RFC 5849 §3.4.1): method, base URL, and the normalised parameters. */
export function signatureBaseString(method: string, baseUrl: string, params: [string, string][]): string {
  const normalized = params
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as [string, string])
    .sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : av > bv ? 1 : 0) : ak < bk ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  return [method.toUpperCase(), percentEncode(baseUrl), percentEncode(normalized)].join('&');
}

export function hmacSha1Signature(base: string, consumerSecret: string, tokenSecret: string): string {
  return createHmac('sha1', `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`)
    .update(base)
    .digest('base64');
}

export interface OAuthCheckInput {
  method: string;
  /** scheme://host[:port]/path, no query. */
  baseUrl: string;
  query: URLSearchParams;
  /** Parameters of an application/x-www-form-urlencoded body (they are signed too). */
  formBody?: URLSearchParams;
  authorization: string | undefined;
  consumerSecretOf: (consumerKey: string) => string | undefined;
  tokenSecretOf: (token: string) => string | undefined;
  maxSkewSeconds?: number;
}

export type OAuthCheck = { ok: true; token: string; consumerKey: string } | { ok: false; reason: string };

/** Verifies an OAuth 1.0a HMAC-SHA1 signed request. */
export function verifyOAuth1(input: OAuthCheckInput): OAuthCheck {
  const oauth = parseOAuthHeader(input.authorization);
  if (!oauth) return { ok: false, reason: 'missing OAuth header' };
  if (oauth.oauth_signature_method !== 'HMAC-SHA1')
    return { ok: false, reason: 'unsupported signature method' };
  const consumerSecret = input.consumerSecretOf(oauth.oauth_consumer_key ?? '');
  if (consumerSecret === undefined) return { ok: false, reason: 'unknown consumer key' };
  const tokenSecret = input.tokenSecretOf(oauth.oauth_token ?? '');
  if (tokenSecret === undefined) return { ok: false, reason: 'unknown token' };
  const skew = Math.abs(Date.now() / 1000 - Number(oauth.oauth_timestamp));
  if (!(skew <= (input.maxSkewSeconds ?? 300))) return { ok: false, reason: 'timestamp out of range' };
  const params: [string, string][] = [];
  for (const [k, v] of Object.entries(oauth))
    if (k !== 'oauth_signature' && k !== 'realm') params.push([k, v]);
  for (const [k, v] of input.query) params.push([k, v]);
  for (const [k, v] of input.formBody ?? []) params.push([k, v]);
  const expected = hmacSha1Signature(
    signatureBaseString(input.method, input.baseUrl, params),
    consumerSecret,
    tokenSecret,
  );
  const a = Buffer.from(expected);
  const b = Buffer.from(oauth.oauth_signature ?? '');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, reason: 'bad signature' };
  return { ok: true, token: oauth.oauth_token, consumerKey: oauth.oauth_consumer_key };
}
