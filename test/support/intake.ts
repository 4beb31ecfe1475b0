import { TestStack } from './stack';

export interface UploadOptions {
  filename?: string;
  contentType?: string;
  field?: string;
  altText?: string;
  headers?: Record<string, string>;
  /** Extra files in the same form (to test «one file only»). */
  extra?: { field: string; data: Buffer; filename: string }[];
}

/** POST /api/v1/alerts/:id/photos as multipart/form-data (as the duty operator unless headers say otherwise). */
export async function uploadPhoto(
  stack: TestStack,
  alertId: string,
  data: Buffer | null,
  opts: UploadOptions = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const form = new FormData();
  if (data) {
    form.append(
      opts.field ?? 'photo',
      new Blob([data], { type: opts.contentType ?? 'image/jpeg' }),
      opts.filename ?? 'foto.jpg',
    );
  }
  for (const e of opts.extra ?? [])
    form.append(e.field, new Blob([e.data], { type: 'image/jpeg' }), e.filename);
  if (opts.altText !== undefined) form.append('altText', opts.altText);
  const headers = opts.headers ?? {
    authorization: `Bearer ${stack.token('operadora', { sub: stack.operatorId })}`,
  };
  const res = await fetch(`${stack.url('intake')}/api/v1/alerts/${alertId}/photos`, {
    method: 'POST',
    body: form,
    headers,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

/** Raw bytes of a URL (public photo URLs). */
export async function fetchBytes(url: string): Promise<{ status: number; data: Buffer; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, data: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}
