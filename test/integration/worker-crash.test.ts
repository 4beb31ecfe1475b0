import { TestStack, minimalFicha, sleep, waitFor } from '../support/stack';

const RECEIPT = 'AlertEventReceived';

describe('a worker that dies or is stopped mid-stream', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.create({ env: { CONSUMER_SESSION_TIMEOUT_MS: '6000' } });
    await stack.startAll(['intake', 'coordination', 'tracker']);
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  it('recognises the redelivery after a SIGKILL between its DB commit and its offset commit', async () => {
    const doomed = await stack.start('dissemination', { FAULT_KILL_AFTER_INBOX_COMMIT: '1' });

    const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha());
    expect(res.status).toBe(201);
    await doomed.waitExit();
    expect(doomed.logs().some((l) => String(l.msg).startsWith('fault injection: SIGKILL'))).toBe(true);

    const [{ event_id: eventId }] = await stack.query<{ event_id: string }>(
      `SELECT event_id FROM dissemination.inbox WHERE alert_id = $1`,
      [res.body.id],
    );

    const restarted = await stack.start('dissemination');
    await waitFor(
      async () =>
        restarted
          .logs()
          .some((l) => l.msg === 'duplicate event skipped (already in inbox)' && l.eventId === eventId),
      { what: 'the redelivered event to be recognised', timeoutMs: 40_000 },
    );
    const timeline = await stack.timelineWhere(
      res.body.id,
      (e) => e.filter((x) => x.type === RECEIPT).length >= 2,
    );
    await sleep(1_000);
    const again = (await stack.http('tracker', 'GET', `/api/v1/alerts/${res.body.id}/timeline`)).body;
    expect(again.entries.length).toBe(timeline.entries.length);

    // Applied once: one inbox row, one receipt event in the outbox, one receipt on the timeline.
    expect(
      await stack.query(`SELECT 1 FROM dissemination.inbox WHERE event_id = $1`, [eventId]),
    ).toHaveLength(1);
    expect(
      await stack.query(`SELECT 1 FROM dissemination.outbox WHERE message_key = $1`, [res.body.id]),
    ).toHaveLength(1);
    const receipts = again.entries.filter((e: any) => e.details.consumer === 'alerta-rosa.dissemination');
    expect(receipts).toHaveLength(1);
  });

  it('stops cleanly on SIGTERM: in-flight work finished and committed, nothing redelivered after restart', async () => {
    const worker = stack.service('dissemination');
    const alerts: string[] = [];
    for (let i = 0; i < 5; i++) {
      alerts.push(
        (await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 30 + i }))).body.id,
      );
    }
    // Stop while the burst is being consumed.
    await worker.stop('SIGTERM');
    expect(worker.logs().some((l) => l.msg === 'dissemination stopped')).toBe(true);

    const restarted = await stack.start('dissemination');
    for (const id of alerts) {
      await stack.timelineWhere(id, (e) => e.filter((x) => x.type === RECEIPT).length === 2, 40_000);
    }
    expect(restarted.logs().some((l) => l.msg === 'duplicate event skipped (already in inbox)')).toBe(false);
    const dupes = await stack.query(
      `SELECT event_id FROM dissemination.inbox GROUP BY event_id HAVING count(*) > 1`,
    );
    expect(dupes).toEqual([]);
  });
});
