import { readFileSync } from 'fs';
import { IncomingMessage, Server, ServerResponse, createServer } from 'http';

/**
 * Shared machinery of the stand-ins for the outside world (X, Facebook, partner webhooks): a plain
 * node http server with routes, injectable faults per account, a store of what was posted/deleted,
 * and control endpoints (`/_control/…`) for tests, benchmarks and the console.
 */

export interface SandboxRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: Buffer;
  params: Record<string, string>;
  raw: IncomingMessage;
}

export interface SandboxReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: SandboxRequest, res: ServerResponse) => Promise<SandboxReply | 'handled'>;

export interface Faults {
  /** Answer 5xx to the next N create requests (before anything is created). */
  fail5xx: number;
  /** Create, then never answer, for the next N create requests (the client times out). */
  timeoutAfterCommit: number;
  /** Answer 429 to every request of the account until this instant (epoch ms). */
  rateLimitedUntil: number;
  /** Credentials refused. */
  revoked: boolean;
  latencyMs: number | null;
  /** This account's own visibility lag (ms after creation before a post shows in timelines); null: the global one. */
  visibleAfterMs: number | null;
}

export interface StoredPost {
  id: string;
  accountId: string;
  kind: string;
  text: string;
  hasImage: boolean;
  /** The image's format, read from its bytes: 'png', 'jpeg', or null (no image, or neither). */
  imageType: 'png' | 'jpeg' | null;
  imageBytes: number;
  altText: string | null;
  replyTo: string | null;
  createdAt: string;
  deletedAt: string | null;
  extra?: Record<string, unknown>;
}

export interface Stats {
  requests: Record<string, number>;
  creates: Record<string, number>;
  rateLimited: Record<string, number>;
  timeoutsAfterCommit: Record<string, number>;
  revokedRefusals: Record<string, number>;
  duplicatesRefused: Record<string, number>;
  /** Media uploads begun (X: initialize), per uploading account. */
  mediaUploads: Record<string, number>;
  /** Most requests of an account held at once (during their latency): how parallel the caller is. */
  maxInFlight: Record<string, number>;
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function isPng(buf: Buffer | undefined | null): boolean {
  return !!buf && buf.length > 8 && buf.subarray(0, 8).equals(PNG_MAGIC);
}

/** The format of an image by its magic bytes (PNG signature, JPEG SOI marker). */
export function imageType(buf: Buffer | undefined | null): 'png' | 'jpeg' | null {
  if (isPng(buf)) return 'png';
  if (buf && buf.length > 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  return null;
}

export class Sandbox {
  readonly posts: StoredPost[] = [];
  private readonly faults = new Map<string, Faults>();
  private readonly routes: { method: string; pattern: RegExp; keys: string[]; handler: Handler }[] = [];
  private readonly hanging = new Set<ServerResponse>();
  latencyMs = 0;
  /**
   * How long a new post takes to appear in timeline/feed reads (real platforms' reads lag behind their
   * writes by seconds). Creating, deleting and the control endpoints see every post at once.
   */
  visibleAfterMs = 0;
  readonly hangMs: number;
  stats: Stats = emptyStats();
  private readonly inFlight = new Map<string, number>();
  private server: Server | null = null;

  constructor(readonly name: string) {
    this.latencyMs = Number(process.env.SANDBOX_LATENCY_MS ?? 0);
    this.hangMs = Number(process.env.SANDBOX_HANG_MS ?? 30_000);
    this.visibleAfterMs = Number(process.env.SANDBOX_VISIBLE_AFTER_MS ?? 0);
  }

  /** Credentials of every account (same JSON file dissemination imports). */
  static loadCredentials(): Record<string, Record<string, string>> {
    const file = process.env.SANDBOX_CREDENTIALS_FILE;
    return file ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>) : {};
  }

  route(method: string, path: string, handler: Handler): this {
    const keys: string[] = [];
    const pattern = new RegExp(
      '^' +
        path.replace(/:([a-zA-Z]+)/g, (_m, k: string) => {
          keys.push(k);
          return '([^/]+)';
        }) +
        '$',
    );
    this.routes.push({ method, pattern, keys, handler });
    return this;
  }

  faultsOf(accountId: string): Faults {
    let f = this.faults.get(accountId);
    if (!f) {
      f = {
        fail5xx: 0,
        timeoutAfterCommit: 0,
        rateLimitedUntil: 0,
        revoked: false,
        latencyMs: null,
        visibleAfterMs: null,
      };
      this.faults.set(accountId, f);
    }
    return f;
  }

  count(metric: keyof Stats, accountId: string): void {
    this.stats[metric][accountId] = (this.stats[metric][accountId] ?? 0) + 1;
  }

  /** Rate-limit headers X sends on every answer; a 429 carries remaining 0 and the reset instant. */
  rateHeaders(accountId: string): Record<string, string> {
    const until = this.faultsOf(accountId).rateLimitedUntil;
    const limited = until > Date.now();
    const reset = limited ? Math.ceil(until / 1000) : Math.ceil((Date.now() + 900_000) / 1000);
    return {
      'x-rate-limit-limit': '300',
      'x-rate-limit-remaining': limited ? '0' : String(300 - ((this.stats.creates[accountId] ?? 0) % 300)),
      'x-rate-limit-reset': String(reset),
    };
  }

  /** Faults that apply to any authenticated request: 429 while the account is rate limited. */
  rateLimitReply(accountId: string, body: unknown): SandboxReply | null {
    const f = this.faultsOf(accountId);
    if (f.rateLimitedUntil > Date.now()) {
      this.count('rateLimited', accountId);
      const headers = this.rateHeaders(accountId);
      headers['retry-after'] = String(Math.max(1, Math.ceil((f.rateLimitedUntil - Date.now()) / 1000)));
      return { status: 429, headers, body };
    }
    return null;
  }

  /** Faults on a create request before anything is created: injected 5xx. */
  failBeforeCommit(accountId: string): boolean {
    const f = this.faultsOf(accountId);
    if (f.fail5xx > 0) {
      f.fail5xx--;
      return true;
    }
    return false;
  }

  /** After creating: maybe never answer (timeout-after-commit). Returns true when the response was taken over. */
  hangAfterCommit(accountId: string, res: ServerResponse): boolean {
    const f = this.faultsOf(accountId);
    if (f.timeoutAfterCommit <= 0) return false;
    f.timeoutAfterCommit--;
    this.count('timeoutsAfterCommit', accountId);
    this.hanging.add(res);
    setTimeout(() => {
      this.hanging.delete(res);
      res.destroy();
    }, this.hangMs).unref();
    return true;
  }

  /** Whether a post already shows in the account's timeline/feed reads (see visibleAfterMs). */
  isVisible(post: StoredPost, now = Date.now()): boolean {
    const lag = this.faults.get(post.accountId)?.visibleAfterMs ?? this.visibleAfterMs;
    return lag <= 0 || Date.parse(post.createdAt) + lag <= now;
  }

  /** The most recent attached images (bounded), for tests that look at what was actually posted. */
  private readonly images = new Map<string, Buffer>();

  store(post: Omit<StoredPost, 'createdAt' | 'deletedAt' | 'imageType'>, image?: Buffer | null): StoredPost {
    const stored: StoredPost = {
      ...post,
      imageType: imageType(image),
      createdAt: new Date().toISOString(),
      deletedAt: null,
    };
    this.posts.push(stored);
    if (image) {
      this.images.set(post.id, image);
      if (this.images.size > 300) this.images.delete(this.images.keys().next().value!);
    }
    this.count('creates', post.accountId);
    return stored;
  }

  private controlRoutes(): void {
    this.route('GET', '/_control/posts', async (req) => {
      const account = req.url.searchParams.get('accountId');
      const contains = req.url.searchParams.get('contains');
      const posts = this.posts.filter(
        (p) => (!account || p.accountId === account) && (!contains || p.text.includes(contains)),
      );
      return { status: 200, body: { posts } };
    });
    this.route('GET', '/_control/posts/:id/image', async (req, res) => {
      const image = this.images.get(req.params.id);
      if (!image) return { status: 404, body: { error: 'no image kept for this post' } };
      res.writeHead(200, { 'content-type': isPng(image) ? 'image/png' : 'application/octet-stream' });
      res.end(image);
      return 'handled';
    });
    this.route('GET', '/_control/stats', async () => ({ status: 200, body: this.stats }));
    this.route('POST', '/_control/latency', async (req) => {
      this.latencyMs = Number(json(req).ms ?? 0);
      return { status: 200, body: { latencyMs: this.latencyMs } };
    });
    this.route('POST', '/_control/visibility', async (req) => {
      this.visibleAfterMs = Number(json(req).visibleAfterMs ?? 0);
      return { status: 200, body: { visibleAfterMs: this.visibleAfterMs } };
    });
    this.route('POST', '/_control/accounts/:accountId/faults', async (req) => {
      const f = this.faultsOf(req.params.accountId);
      const b = json(req);
      if (b.fail5xx !== undefined) f.fail5xx = Number(b.fail5xx);
      if (b.timeoutAfterCommit !== undefined) f.timeoutAfterCommit = Number(b.timeoutAfterCommit);
      if (b.rateLimitForMs !== undefined) f.rateLimitedUntil = Date.now() + Number(b.rateLimitForMs);
      if (b.revoked !== undefined) f.revoked = Boolean(b.revoked);
      if (b.latencyMs !== undefined) f.latencyMs = b.latencyMs === null ? null : Number(b.latencyMs);
      if (b.visibleAfterMs !== undefined)
        f.visibleAfterMs = b.visibleAfterMs === null ? null : Number(b.visibleAfterMs);
      return { status: 200, body: { accountId: req.params.accountId, ...f } };
    });
    this.route('POST', '/_control/stats/reset', async () => {
      this.stats = emptyStats();
      return { status: 200, body: { ok: true } };
    });
    this.route('POST', '/_control/reset', async () => {
      this.posts.length = 0;
      this.faults.clear();
      this.stats = emptyStats();
      this.visibleAfterMs = Number(process.env.SANDBOX_VISIBLE_AFTER_MS ?? 0);
      return { status: 200, body: { ok: true } };
    });
    this.route('GET', '/health', async () => ({ status: 200, body: { status: 'ok', service: this.name } }));
  }

  /** Latency for a request: the account's own, else the global one (requests held count as in flight). */
  async delay(accountId?: string): Promise<void> {
    const ms = (accountId ? this.faults.get(accountId)?.latencyMs : null) ?? this.latencyMs;
    if (ms <= 0) return;
    const n = accountId ? (this.inFlight.get(accountId) ?? 0) + 1 : 0;
    if (accountId) {
      this.inFlight.set(accountId, n);
      this.stats.maxInFlight[accountId] = Math.max(this.stats.maxInFlight[accountId] ?? 0, n);
    }
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      if (accountId) this.inFlight.set(accountId, (this.inFlight.get(accountId) ?? 1) - 1);
    }
  }

  listen(port: number): Promise<void> {
    this.controlRoutes();
    this.server = createServer((req, res) => void this.dispatch(req, res));
    this.server.keepAliveTimeout = 65_000;
    return new Promise((resolve) =>
      this.server!.listen(port, process.env.HOST ?? '127.0.0.1', () => resolve()),
    );
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async dispatch(raw: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(raw.url ?? '/', `http://${raw.headers.host ?? '127.0.0.1'}`);
      const chunks: Buffer[] = [];
      for await (const c of raw) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      for (const r of this.routes) {
        if (r.method !== raw.method) continue;
        const m = r.pattern.exec(url.pathname);
        if (!m) continue;
        const params: Record<string, string> = {};
        r.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1])));
        const reply = await r.handler(
          { method: raw.method!, url, headers: raw.headers, body, params, raw },
          res,
        );
        if (reply !== 'handled') send(res, reply);
        return;
      }
      send(res, { status: 404, body: { error: 'not found' } });
    } catch (err) {
      send(res, { status: 500, body: { error: (err as Error).message } });
    }
  }
}

export function send(res: ServerResponse, reply: SandboxReply): void {
  if (res.headersSent || res.destroyed) return;
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
  res.end(text);
}

export function json(req: SandboxRequest): Record<string, any> {
  if (!req.body.length) return {};
  return JSON.parse(req.body.toString('utf8')) as Record<string, any>;
}

export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** Minimal multipart/form-data parser (enough for the adapters' uploads). */
export function parseMultipart(body: Buffer, contentType: string | undefined): MultipartPart[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  if (!boundary) return [];
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: MultipartPart[] = [];
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2); // skip CRLF after delimiter, before next
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const head = part.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/i.exec(head)?.[1] ?? '';
      const filename = /filename="([^"]*)"/i.exec(head)?.[1];
      const ct = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1];
      parts.push({ name, filename, contentType: ct, data: part.subarray(headerEnd + 4) });
    }
    start = next;
  }
  return parts;
}

/** Form fields from a urlencoded, multipart or JSON body (Graph API accepts all three). */
export function formFields(req: SandboxRequest): { fields: Record<string, string>; files: MultipartPart[] } {
  const ct = String(req.headers['content-type'] ?? '');
  if (ct.startsWith('multipart/form-data')) {
    const parts = parseMultipart(req.body, ct);
    const fields: Record<string, string> = {};
    for (const p of parts) if (p.filename === undefined) fields[p.name] = p.data.toString('utf8');
    return { fields, files: parts.filter((p) => p.filename !== undefined) };
  }
  if (ct.startsWith('application/json')) return { fields: json(req) as Record<string, string>, files: [] };
  return { fields: Object.fromEntries(new URLSearchParams(req.body.toString('utf8'))), files: [] };
}

function emptyStats(): Stats {
  return {
    requests: {},
    creates: {},
    rateLimited: {},
    timeoutsAfterCommit: {},
    revokedRefusals: {},
    duplicatesRefused: {},
    mediaUploads: {},
    maxInFlight: {},
  };
}

/** Entry-point helper: listen on PORT and print the `<name> ready` line the test harness waits for. */
export async function runSandbox(sandbox: Sandbox, fallbackPort: number): Promise<void> {
  const port = Number(process.env.PORT ?? fallbackPort);
  await sandbox.listen(port);
  process.stdout.write(
    JSON.stringify({
      level: 30,
      time: Date.now(),
      service: sandbox.name,
      msg: `${sandbox.name} ready`,
      url: `http://127.0.0.1:${port}`,
    }) + '\n',
  );
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
