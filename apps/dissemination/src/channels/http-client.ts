import { randomBytes } from 'crypto';
import http from 'http';
import https from 'https';

/** A platform's answer, read whole. */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A request that got no answer. `neverSent`: no connection to the platform was made (refused,
 * unresolvable, unreachable, or the time ran out while connecting), so nothing can have been created.
 */
export class HttpRequestError extends Error {
  constructor(
    readonly code: string,
    readonly neverSent: boolean,
  ) {
    super(code);
    this.name = 'HttpRequestError';
  }
}

const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'DELETE', 'PUT']);

/**
 * node:http with one keep-alive pool per adapter, for the Graph API and partner webhooks. Node's fetch
 * (undici) cost 0.6–0.9 ms more CPU per request here, and FormData with a Blob another 0.7 ms per photo
 * post, in a process that makes 30 platform calls per alert version (a burst of 50 alerts: 1,500).
 *
 * Idle sockets are kept `idleMs` (shortened to the server's `Keep-Alive: timeout` hint less a second, as
 * node's agent does). An idempotent request whose reused socket the server had just closed (ECONNRESET
 * before any answer) is sent once more on a new one; a POST in that case is reported as sent (it may
 * have been processed): the caller treats it as ambiguous.
 */
export class HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(options: { maxSockets?: number; idleMs?: number } = {}) {
    const pool = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? 256,
      timeout: options.idleMs ?? 60_000,
    };
    this.httpAgent = new http.Agent(pool);
    this.httpsAgent = new https.Agent(pool);
  }

  async request(
    target: string,
    options: { method: string; headers?: Record<string, string>; body?: Buffer | string; timeoutMs: number },
  ): Promise<HttpAnswer> {
    const deadline = Date.now() + options.timeoutMs;
    try {
      return await this.once(target, options, deadline);
    } catch (err) {
      const retry = err instanceof ResetOnReuse && IDEMPOTENT.has(options.method) && Date.now() < deadline;
      if (!retry) throw err instanceof ResetOnReuse ? err.error : err;
      return this.once(target, options, deadline).catch((again: unknown) => {
        throw again instanceof ResetOnReuse ? again.error : again;
      });
    }
  }

  private once(
    target: string,
    options: { method: string; headers?: Record<string, string>; body?: Buffer | string },
    deadline: number,
  ): Promise<HttpAnswer> {
    const url = new URL(target);
    const secure = url.protocol === 'https:';
    // A Buffer is sent as it is (a card of half a megabyte is not copied per request).
    const body =
      options.body === undefined || Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body);
    return new Promise<HttpAnswer>((resolve, reject) => {
      let connected = false;
      let answered = false;
      let done = false;
      const finish = (fn: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        fn();
      };
      const req = (secure ? https : http).request(
        url,
        {
          method: options.method,
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            finish(() =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
            ),
          );
          res.on('error', (err: NodeJS.ErrnoException) =>
            finish(() => reject(new HttpRequestError(err.code ?? 'ECONNRESET', false))),
          );
        },
      );
      const timer = setTimeout(
        () => {
          const err = new HttpRequestError('ETIMEDOUT', !connected);
          finish(() => reject(err));
          req.destroy(err);
        },
        Math.max(1, deadline - Date.now()),
      );
      req.on('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once('connect', () => (connected = true));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err instanceof HttpRequestError ? err.code : (err.code ?? 'ECONNRESET');
        const failure = new HttpRequestError(code, !connected || NEVER_SENT.has(code));
        finish(() =>
          reject(
            req.reusedSocket && !answered && code === 'ECONNRESET' ? new ResetOnReuse(failure) : failure,
          ),
        );
      });
      req.end(body);
    });
  }
}

/** A reused keep-alive socket reset before any answer (the server closed it as the request went out). */
class ResetOnReuse extends Error {
  constructor(readonly error: HttpRequestError) {
    super(error.code);
  }
}

/** A multipart/form-data body (RFC 7578) of text fields and one file, as one buffer. */
export function multipartBody(
  fields: Record<string, string>,
  file: { field: string; filename: string; contentType: string; data: Buffer },
): { body: Buffer; contentType: string } {
  const boundary = `----alerta-rosa-${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\n` +
        `Content-Type: ${file.contentType}\r\n\r\n`,
    ),
    file.data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}
