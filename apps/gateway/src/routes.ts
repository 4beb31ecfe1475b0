/** The services behind the gateway. */
export type Upstream = 'intake' | 'dissemination' | 'coordination' | 'tracker';
export const UPSTREAMS: Upstream[] = ['intake', 'dissemination', 'coordination', 'tracker'];

export type Route =
  | { kind: 'proxy'; upstream: Upstream; path: string }
  | { kind: 'stream'; alertId: string | null }
  | { kind: 'stream-ticket' }
  | { kind: 'health' }
  | { kind: 'static' };

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const ALERT_STREAM = new RegExp(`^/api/v1/alerts/(${UUID})/stream/?$`);
// Per-alert resources owned by a service other than intake (intake owns the rest of /api/v1/alerts).
const ALERT_SUBRESOURCE = /^\/api\/v1\/alerts\/[^/]+\/(timeline|closure|publications)(\/|$)/;
const SUBRESOURCE_OWNER: Record<string, Upstream> = {
  timeline: 'tracker',
  closure: 'tracker',
  publications: 'dissemination',
};

/** First path segment after /api/v1/ → the service that owns it (anything else under /api/v1 is intake's). */
const PREFIX_OWNER: Record<string, Upstream> = {
  accounts: 'dissemination',
  tasks: 'coordination',
  'task-links': 'coordination',
  areas: 'coordination',
  directory: 'coordination',
  pso: 'coordination',
  committee: 'tracker',
};

/**
 * Where a request goes. `pathname` is the decoded-once path without the query. Dead letters are one
 * endpoint per service (`/api/v1/dead-letters` on each); the gateway exposes them as
 * `/api/v1/dead-letters/<service>`.
 */
export function route(method: string, pathname: string): Route {
  if (pathname === '/health' || pathname === '/health/live' || pathname === '/health/ready') {
    return { kind: 'health' };
  }
  if (pathname === '/api/v1/stream-tickets') return { kind: 'stream-ticket' };
  if (pathname === '/api/v1/stream' || pathname === '/api/v1/stream/')
    return { kind: 'stream', alertId: null };
  const stream = ALERT_STREAM.exec(pathname);
  if (stream) return { kind: 'stream', alertId: stream[1].toLowerCase() };

  const dead = /^\/api\/v1\/dead-letters\/([a-z]+)\/?$/.exec(pathname);
  if (dead && (UPSTREAMS as string[]).includes(dead[1])) {
    return { kind: 'proxy', upstream: dead[1] as Upstream, path: '/api/v1/dead-letters' };
  }
  const sub = ALERT_SUBRESOURCE.exec(pathname);
  if (sub) return { kind: 'proxy', upstream: SUBRESOURCE_OWNER[sub[1]], path: pathname };
  if (pathname === '/cap' || pathname.startsWith('/cap/'))
    return { kind: 'proxy', upstream: 'tracker', path: pathname };
  if (pathname.startsWith('/api/v1/')) {
    const first = pathname.slice('/api/v1/'.length).split('/')[0];
    return { kind: 'proxy', upstream: PREFIX_OWNER[first] ?? 'intake', path: pathname };
  }
  if (pathname === '/api/v1' || pathname.startsWith('/api/docs') || pathname.startsWith('/public/photos/')) {
    return { kind: 'proxy', upstream: 'intake', path: pathname };
  }
  if (pathname.startsWith('/api/')) return { kind: 'proxy', upstream: 'intake', path: pathname };
  // The console's own pages (index fallback); the static handler refuses anything but GET/HEAD.
  void method;
  return { kind: 'static' };
}
