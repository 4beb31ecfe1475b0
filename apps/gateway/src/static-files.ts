import { createReadStream, readFileSync, statSync } from 'fs';
import { IncomingMessage, ServerResponse } from 'http';
import { extname, join, normalize, sep } from 'path';
import { gzipSync } from 'zlib';
import { sendJson } from './http-util';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const COMPRESSIBLE = new Set([
  '.html',
  '.js',
  '.mjs',
  '.css',
  '.json',
  '.svg',
  '.txt',
  '.map',
  '.webmanifest',
]);

/** Headers of every console page: a strict content policy (scripts and connections to this origin only). */
export const CONSOLE_SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // Tokens travel in some console URLs (the acknowledge link): never send them on as a referrer.
  'Referrer-Policy': 'no-referrer',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

/**
 * Serves the built single-page application: files under the build directory (hashed assets cached for
 * a year, gzip when the browser accepts it), and index.html for every other path so client-side routes
 * (/alertas/…, /acuse?token=…) load the app.
 */
export class StaticFiles {
  private readonly gz = new Map<string, Buffer>();
  private readonly index: Buffer;

  constructor(private readonly root: string) {
    this.index = readFileSync(join(root, 'index.html'));
  }

  serve(req: IncomingMessage, res: ServerResponse, pathname: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 404, { code: 'NOT_FOUND', message: 'Ruta inexistente.' });
      return;
    }
    let rel: string;
    try {
      rel = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
    } catch {
      sendJson(res, 400, { code: 'INVALID_PATH', message: 'Ruta inválida.' });
      return;
    }
    const file = join(this.root, rel);
    if (rel && !rel.startsWith('..') && (file + sep).startsWith(this.root + sep) && rel !== 'index.html') {
      const stat = statSync(file, { throwIfNoEntry: false });
      if (stat?.isFile()) return this.file(req, res, file, rel, stat.size);
    }
    // A missing asset is a 404 (a stale page asking for an old chunk must see it), a route gets the app.
    if (rel.startsWith('assets/') || (extname(rel) && extname(rel) !== '.html')) {
      sendJson(res, 404, { code: 'NOT_FOUND', message: 'Archivo inexistente.' });
      return;
    }
    this.send(req, res, 'index.html', this.index, {
      'Content-Type': TYPES['.html'],
      'Cache-Control': 'no-cache',
    });
  }

  private file(req: IncomingMessage, res: ServerResponse, file: string, rel: string, size: number): void {
    const ext = extname(file);
    const headers: Record<string, string> = {
      'Content-Type': TYPES[ext] ?? 'application/octet-stream',
      'Cache-Control': rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    };
    if (COMPRESSIBLE.has(ext)) return this.send(req, res, rel, readFileSync(file), headers);
    res.writeHead(200, { ...CONSOLE_SECURITY_HEADERS, ...headers, 'Content-Length': String(size) });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  }

  private send(
    req: IncomingMessage,
    res: ServerResponse,
    key: string,
    body: Buffer,
    headers: Record<string, string>,
  ): void {
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) && body.length > 1_024;
    let payload = body;
    if (gzip) {
      payload = this.gz.get(key) ?? gzipSync(body, { level: 9 });
      this.gz.set(key, payload);
    }
    res.writeHead(200, {
      ...CONSOLE_SECURITY_HEADERS,
      ...headers,
      Vary: 'Accept-Encoding',
      ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      'Content-Length': String(payload.length),
    });
    res.end(req.method === 'HEAD' ? undefined : payload);
  }
}
