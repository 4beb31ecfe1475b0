import { request } from './client';
import { Alert } from './types';

/** An alert with its ETag (sent back as If-Match on every write). */
export interface AlertWithEtag {
  alert: Alert;
  etag: string | null;
}

export async function fetchAlert(id: string): Promise<AlertWithEtag> {
  const res = await request(`/api/v1/alerts/${id}`);
  return { alert: (await res.json()) as Alert, etag: res.headers.get('etag') };
}

export function newIdempotencyKey(): string {
  return typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export async function writeAlert(
  path: string,
  method: string,
  body: unknown,
  etag: string | null,
): Promise<AlertWithEtag> {
  const headers: Record<string, string> = {};
  if (etag) headers['if-match'] = etag;
  if (method === 'POST') headers['idempotency-key'] = newIdempotencyKey();
  const res = await request(path, { method, body, headers });
  return { alert: (await res.json()) as Alert, etag: res.headers.get('etag') };
}
