import { AccessTokenVerifier, AuthenticatedUser } from '@alerta-rosa/auth';
import { IncomingMessage, Server, ServerResponse, createServer } from 'http';
import type { Logger } from 'pino';
import { z } from 'zod';
import { GatewayConfig } from './gateway.config';
import { BodyError, readJson, sendJson } from './http-util';
import { LiveConsumerStatus } from './live-events.consumer';
import { LiveEventsHub } from './live-events.hub';
import { UpstreamProxy } from './proxy';
import { UPSTREAMS, Upstream, route } from './routes';
import { StaticFiles } from './static-files';
import { StreamTickets } from './stream-ticket';

const ticketRequestSchema = z.object({ alertId: z.string().uuid().optional() }).strict();
/** Roles that read an alert's publications, tasks and timeline, hence its stream. */
const ALERT_STREAM_ROLES = ['operadora', 'comite', 'admin'];

export interface GatewayDeps {
  config: GatewayConfig;
  logger: Logger;
  hub: LiveEventsHub;
  tickets: StreamTickets;
  verifier: AccessTokenVerifier;
  consumerStatus: () => LiveConsumerStatus;
}

/** The console's one origin: the SPA, every service's API behind it, and the live event streams. */
export function createGatewayServer(deps: GatewayDeps): { server: Server; close: () => void } {
  const { config, logger } = deps;
  const bases: Record<Upstream, string> = {
    intake: config.INTAKE_URL,
    dissemination: config.DISSEMINATION_URL,
    coordination: config.COORDINATION_URL,
    tracker: config.TRACKER_URL,
  };
  const proxy = new UpstreamProxy(bases, config.UPSTREAM_TIMEOUT_MS, logger);
  const statics = new StaticFiles(config.CONSOLE_DIR);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway.invalid');
    } catch {
      return sendJson(res, 400, { code: 'INVALID_PATH', message: 'Ruta inválida.' });
    }
    const r = route(req.method ?? 'GET', url.pathname);
    switch (r.kind) {
      case 'proxy':
        return proxy.forward(req, res, r.upstream, r.path, url.search);
      case 'static':
        return statics.serve(req, res, url.pathname);
      case 'health':
        return health(req, res, url.pathname);
      case 'stream-ticket':
        return issueTicket(req, res);
      case 'stream':
        return openStream(req, res, r.alertId, url.searchParams.get('ticket'));
    }
  };

  async function health(_req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const consumer = deps.consumerStatus();
    if (path === '/health/live') return sendJson(res, 200, { status: 'ok', service: 'gateway' });
    if (path === '/health/ready') {
      const ready = consumer.state === 'running';
      return sendJson(res, ready ? 200 : 503, {
        status: ready ? 'ok' : 'unavailable',
        service: 'gateway',
        consumer,
      });
    }
    const upstreams = Object.fromEntries(
      await Promise.all(
        UPSTREAMS.map(async (u) => {
          const answer = await fetch(`${bases[u]}/health`, { signal: AbortSignal.timeout(2_000) }).catch(
            () => null,
          );
          return [u, answer?.ok ? 'ok' : 'unavailable'] as const;
        }),
      ),
    );
    const degraded = consumer.state !== 'running' || Object.values(upstreams).some((s) => s !== 'ok');
    return sendJson(res, 200, {
      status: degraded ? 'degraded' : 'ok',
      service: 'gateway',
      consumer,
      streams: deps.hub.size,
      upstreams,
    });
  }

  function bearer(req: IncomingMessage): { user: AuthenticatedUser; exp: number } | null {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const user = token ? deps.verifier.verify(token) : null;
    if (!user || !token) return null;
    // Verified above; its expiry bounds the streams it opens.
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {
      exp?: number;
    };
    return { user, exp: payload.exp ?? Math.floor(Date.now() / 1000) + 60 };
  }

  async function issueTicket(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      return sendJson(
        res,
        405,
        { code: 'METHOD_NOT_ALLOWED', message: 'Método no permitido; use POST.' },
        { Allow: 'POST' },
      );
    }
    const auth = bearer(req);
    if (!auth) {
      req.resume();
      return sendJson(res, 401, {
        code: 'UNAUTHENTICATED',
        message: 'Se requiere iniciar sesión (token ausente, inválido o vencido).',
      });
    }
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (err) {
      if (err instanceof BodyError)
        return sendJson(res, err.status, { code: err.code, message: err.message });
      throw err;
    }
    const parsed = ticketRequestSchema.safeParse(body);
    if (!parsed.success) {
      return sendJson(res, 400, {
        code: 'VALIDATION_FAILED',
        message: 'La solicitud tiene datos inválidos.',
        fields: parsed.error.issues.map((i) => ({
          path: i.path.join('.'),
          code: i.code,
          message: i.code === 'unrecognized_keys' ? 'Campo no permitido' : 'Identificador de alerta inválido',
        })),
      });
    }
    const alertId = parsed.data.alertId?.toLowerCase() ?? null;
    if (alertId && !ALERT_STREAM_ROLES.includes(auth.user.role)) {
      return sendJson(res, 403, { code: 'FORBIDDEN', message: 'Su rol no tiene permiso para esta acción.' });
    }
    const { ticket, expiresIn } = deps.tickets.issue({
      sub: auth.user.id,
      role: auth.user.role,
      areaId: auth.user.areaId,
      alertId,
      until: auth.exp,
    });
    const path = alertId ? `/api/v1/alerts/${alertId}/stream` : '/api/v1/stream';
    return sendJson(res, 201, { ticket, expiresIn, url: `${path}?ticket=${encodeURIComponent(ticket)}` });
  }

  function openStream(
    req: IncomingMessage,
    res: ServerResponse,
    alertId: string | null,
    ticket: string | null,
  ): void {
    if (req.method !== 'GET') {
      return sendJson(
        res,
        405,
        { code: 'METHOD_NOT_ALLOWED', message: 'Método no permitido; use GET.' },
        { Allow: 'GET' },
      );
    }
    const check = deps.tickets.redeem(ticket);
    if (!check.ok) {
      const messages = {
        invalid: ['STREAM_TICKET_INVALID', 'El boleto de conexión en vivo no es válido.'],
        expired: ['STREAM_TICKET_EXPIRED', 'El boleto de conexión en vivo venció; solicite otro.'],
        used: ['STREAM_TICKET_USED', 'El boleto de conexión en vivo ya se usó; solicite otro.'],
      } as const;
      const [code, message] = messages[check.reason];
      return sendJson(res, 401, { code, message });
    }
    if (check.claims.alertId !== alertId) {
      return sendJson(res, 403, {
        code: 'STREAM_SCOPE_MISMATCH',
        message: 'El boleto de conexión en vivo es para otra alerta.',
      });
    }
    deps.hub.open(res, check.claims);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      logger.error({ error: err.message, method: req.method }, 'request failed');
      if (!res.headersSent)
        sendJson(res, 500, { code: 'INTERNAL_ERROR', message: 'Error interno del servidor.' });
      else res.destroy();
    });
  });
  // Long-lived streams: no idle timeout on sockets (pings keep them busy), headers must arrive soon.
  server.headersTimeout = 20_000;
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  return { server, close: () => proxy.close() };
}
