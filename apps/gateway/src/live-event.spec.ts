import { createEnvelope } from '@alerta-rosa/contracts';
import { toLiveEvent, visibleTo } from './live-event';

const alertId = '0190a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b';

describe('events pushed to open pages', () => {
  it('sends alert events without the ficha (the page refetches it from intake)', () => {
    const e = toLiveEvent(
      'alerts.v1',
      createEnvelope({
        type: 'AlertActivated',
        alertId,
        producer: 'intake',
        payload: {
          folio: 'AR-2026-0001',
          version: 1,
          activatedAt: '2026-11-27T20:00:00Z',
          ficha: { fullName: 'Ana' },
        },
      }),
    );
    expect(e).toMatchObject({
      type: 'AlertActivated',
      topic: 'alerts.v1',
      alertId,
      data: { folio: 'AR-2026-0001', version: 1 },
    });
    expect(JSON.stringify(e)).not.toContain('Ana');
  });

  it('shows an area user its own tasks and the alerts, never publications or other areas', () => {
    const task = (areaId: string) =>
      toLiveEvent(
        'tasks.v1',
        createEnvelope({
          type: 'TaskAssigned',
          alertId,
          producer: 'coordination',
          payload: { areaId, taskId: 't' },
        }),
      );
    const pub = toLiveEvent(
      'publications.v1',
      createEnvelope({
        type: 'PublicationSucceeded',
        alertId,
        producer: 'dissemination',
        payload: { accountId: 'ssp-x' },
      }),
    );
    const c4 = { role: 'area' as const, areaId: 'c4' };
    expect(visibleTo(c4, task('c4'))).toBe(true);
    expect(visibleTo(c4, task('policia-vial'))).toBe(false);
    expect(visibleTo(c4, pub)).toBe(false);
    expect(visibleTo({ role: 'operadora', areaId: null }, pub)).toBe(true);
    expect(visibleTo({ role: 'comite', areaId: null }, task('policia-vial'))).toBe(true);
  });
});
