import { route } from './routes';

const ID = '0190a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b';

describe('gateway routes (one origin for every API)', () => {
  it.each([
    [`/api/v1/alerts/${ID}/timeline`, 'tracker'],
    [`/api/v1/alerts/${ID}/closure`, 'tracker'],
    [`/api/v1/alerts/${ID}/publications`, 'dissemination'],
    ['/api/v1/accounts', 'dissemination'],
    ['/api/v1/accounts/ssp-x/credentials', 'dissemination'],
    ['/api/v1/tasks', 'coordination'],
    [`/api/v1/tasks/${ID}/acknowledge`, 'coordination'],
    ['/api/v1/task-links/acknowledge', 'coordination'],
    ['/api/v1/areas', 'coordination'],
    ['/api/v1/areas/c4/contacts', 'coordination'],
    ['/api/v1/directory/duty-officer', 'coordination'],
    ['/api/v1/directory/changes', 'coordination'],
    ['/api/v1/pso/versions', 'coordination'],
    ['/api/v1/committee/period', 'tracker'],
    ['/api/v1/committee/export/report.pdf', 'tracker'],
    ['/cap/alerts.atom', 'tracker'],
    ['/cap/messages/x.xml', 'tracker'],
    ['/api/v1/alerts', 'intake'],
    [`/api/v1/alerts/${ID}`, 'intake'],
    [`/api/v1/alerts/${ID}/private`, 'intake'],
    [`/api/v1/alerts/${ID}/photos`, 'intake'],
    [`/api/v1/alerts/${ID}/deactivate`, 'intake'],
    ['/api/v1/auth/login', 'intake'],
    ['/api/v1/users', 'intake'],
    ['/api/v1/audit', 'intake'],
    ['/api/v1/municipalities', 'intake'],
    ['/public/photos/abc/full.jpg', 'intake'],
    ['/api/docs', 'intake'],
  ])('%s → %s', (path, upstream) => {
    expect(route('GET', path)).toEqual({ kind: 'proxy', upstream, path });
  });

  it('exposes each service dead letters under /api/v1/dead-letters/<service>', () => {
    expect(route('GET', '/api/v1/dead-letters/tracker')).toEqual({
      kind: 'proxy',
      upstream: 'tracker',
      path: '/api/v1/dead-letters',
    });
    expect(route('GET', '/api/v1/dead-letters/nobody')).toMatchObject({ upstream: 'intake' });
  });

  it('serves the live streams, tickets and its own health itself', () => {
    expect(route('GET', `/api/v1/alerts/${ID.toUpperCase()}/stream`)).toEqual({
      kind: 'stream',
      alertId: ID,
    });
    expect(route('GET', '/api/v1/stream')).toEqual({ kind: 'stream', alertId: null });
    expect(route('POST', '/api/v1/stream-tickets')).toEqual({ kind: 'stream-ticket' });
    expect(route('GET', '/health')).toEqual({ kind: 'health' });
  });

  it('gives every other path to the console (its client-side routes)', () => {
    expect(route('GET', '/alertas/nueva')).toEqual({ kind: 'static' });
    expect(route('GET', '/acuse')).toEqual({ kind: 'static' });
    expect(route('GET', '/assets/index-abc.js')).toEqual({ kind: 'static' });
  });
});
