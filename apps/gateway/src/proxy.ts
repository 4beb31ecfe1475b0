import { Agent, IncomingHttpHeaders, IncomingMessage, ServerResponse, request } from 'http';
import type { Logger } from 'pino';
import { sendJson } from './http-util';
import { Upstream } from './routes';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const NAMES: Record<Upstream, string> = {
  intake: 'de alertas (intake)',
  dissemination: 'de difusión',
  coordination: 'de coordinación',
  tracker: 'de seguimiento',
};

function strip(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase());
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || listed.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

/**
 * Streams a request to the service that owns it and the answer back, both ways without buffering
 * (photo uploads, CSV/PDF downloads). Adds X-Forwarded-For/-Proto/-Host so the services audit the
 * client's address (intake's TRUST_PROXY). An unreachable service is a 502 with a Spanish message, a
 * service that does not start answering in time a 504.
 */
export class UpstreamProxy {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 128, keepAliveMsecs: 10_000 });

  constructor(
    private readonly bases: Record<Upstream, string>,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  forward(req: IncomingMessage, res: ServerResponse, upstream: Upstream, path: string, search: string): void {
    const target = new URL(path + search, this.bases[upstream]);
    const headers = strip(req.headers);
    const client = req.socket.remoteAddress ?? '';
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = prior ? `${String(prior)}, ${client}` : client;
    headers['x-forwarded-proto'] = 'http';
    if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
    headers.host = target.host;

    const started = Date.now();
    const out = request(target, { method: req.method, headers, agent: this.agent });
    let answered = false;
    out.setTimeout(this.timeoutMs, () => {
      out.destroy(new Error('upstream timeout'));
    });
    out.on('response', (up) => {
      answered = true;
      res.writeHead(up.statusCode ?? 502, strip(up.headers));
      up.pipe(res);
      up.on('end', () =>
        this.logger.debug(
          { upstream, method: req.method, path, status: up.statusCode, ms: Date.now() - started },
          'proxied',
        ),
      );
    });
    out.on('error', (err) => {
      if (answered || res.headersSent) {
        res.destroy();
        return;
      }
      const timeout = err.message === 'upstream timeout';
      this.logger.warn({ upstream, method: req.method, path, error: err.message }, 'upstream failed');
      sendJson(
        res,
        timeout ? 504 : 502,
        timeout
          ? { code: 'UPSTREAM_TIMEOUT', message: `El servicio ${NAMES[upstream]} no respondió a tiempo.` }
          : { code: 'UPSTREAM_UNAVAILABLE', message: `El servicio ${NAMES[upstream]} no está disponible.` },
      );
    });
    // The client went away: stop the upstream request too.
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  }

  close(): void {
    this.agent.destroy();
  }
}
