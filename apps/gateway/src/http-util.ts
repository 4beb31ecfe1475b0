import { IncomingMessage, ServerResponse } from 'http';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a small JSON body (stream-ticket requests); empty means `{}`. */
export async function readJson(req: IncomingMessage, limit = 4_096): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new BodyError(413, 'PAYLOAD_TOO_LARGE', 'El cuerpo de la solicitud es demasiado grande.');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  const type = String(req.headers['content-type'] ?? '');
  if (!type.includes('application/json')) {
    throw new BodyError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Se espera application/json.');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyError(400, 'MALFORMED_JSON', 'El cuerpo no es JSON válido.');
  }
}
