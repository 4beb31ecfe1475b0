import { CommitNotifier, CommittedWorkLoop } from '@alerta-rosa/messaging';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import pino from 'pino';
import { sleep, waitFor } from '../support/stack';

// The loop that hands committed work to the queues (dissemination, coordination), on the real PostgreSQL.
const DATABASE_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('CommittedWorkLoop (real PostgreSQL LISTEN/NOTIFY)', () => {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 3 });
  const loops: CommittedWorkLoop[] = [];
  afterEach(async () => {
    await Promise.all(loops.splice(0).map((l) => l.stop()));
  });
  afterAll(() => pool.end());

  function make(
    run: (pass: { full: boolean }) => Promise<void>,
    pollIntervalMs = 60_000,
    notifier?: CommitNotifier,
  ) {
    const channel = `loop_test_${randomUUID().replace(/-/g, '')}`;
    const loop = new CommittedWorkLoop({
      notifier,
      name: 'loop-test',
      databaseUrl: DATABASE_URL,
      channel,
      pollIntervalMs,
      reconnectMs: 100,
      logger: pino({ level: 'silent' }),
      run,
    });
    loops.push(loop);
    return { loop, channel };
  }

  async function inTransaction(channel: string, commit: boolean): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_notify($1, '')`, [channel]);
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
    } finally {
      client.release();
    }
  }

  it('runs once fully at start, then on each committed notification and never for a rolled-back one', async () => {
    const passes: boolean[] = [];
    const { loop, channel } = make(async ({ full }) => {
      passes.push(full);
    });
    await loop.start();
    expect(passes).toEqual([true]);
    expect(loop.listening).toBe(true);

    await inTransaction(channel, false);
    await sleep(300);
    expect(passes).toEqual([true]);

    await inTransaction(channel, true);
    await waitFor(async () => passes.length === 2, { what: 'the run woken by the commit' });
    expect(passes).toEqual([true, false]);
  });

  it("is woken at once by its own process's commit notifier, and once only: it skips that notifier's NOTIFY, not another process's", async () => {
    const ours = new CommitNotifier({ databaseUrl: DATABASE_URL, logger: pino({ level: 'silent' }) });
    const theirs = new CommitNotifier({ databaseUrl: DATABASE_URL, logger: pino({ level: 'silent' }) });
    try {
      const passes: boolean[] = [];
      const { loop, channel } = make(
        async ({ full }) => {
          passes.push(full);
        },
        60_000,
        ours,
      );
      await loop.start();
      // A probe on the same channel sees that our NOTIFY was sent (for other replicas).
      const probe = await pool.connect();
      let seen = 0;
      probe.on('notification', () => seen++);
      try {
        await probe.query(`LISTEN "${channel}"`);
        ours.notify(channel);
        expect(passes).toEqual([true, false]); // the local wake-up, before any round trip
        await waitFor(async () => seen === 1, { what: 'our NOTIFY on the channel' });
        await sleep(300);
        expect(passes).toEqual([true, false]);

        theirs.notify(channel);
        await waitFor(async () => passes.length === 3, {
          what: "the run woken by the other process's NOTIFY",
        });
        await inTransaction(channel, true); // a writer without a notifier (empty payload) wakes it too
        await waitFor(async () => passes.length === 4, { what: 'the run woken by a plain NOTIFY' });
        expect(passes).toEqual([true, false, false, false]);

        // Stopped, it no longer listens to the notifier either.
        await loop.stop();
        ours.notify(channel);
        await sleep(300);
        expect(passes).toHaveLength(4);
      } finally {
        await probe.query('UNLISTEN *');
        probe.release();
      }
    } finally {
      await ours.close();
      await theirs.close();
    }
  });

  it('coalesces wake-ups that arrive during a run into exactly one more run, full if any asked for it', async () => {
    const passes: boolean[] = [];
    let release!: () => void;
    let block = true;
    const { loop } = make(async ({ full }) => {
      passes.push(full);
      if (block) await new Promise<void>((r) => (release = r));
    });
    const started = loop.start();
    await waitFor(async () => passes.length === 1, { what: 'the first run' });
    const waits = [loop.wake(), loop.wake(true), loop.wake(), loop.wake()];
    block = false;
    release();
    await Promise.all([started, ...waits]);
    expect(passes).toEqual([true, true]);
    await loop.wake();
    expect(passes).toEqual([true, true, false]);
  });

  it('retries a failed run on the next poll', async () => {
    let calls = 0;
    let done = false;
    const { loop } = make(async () => {
      calls += 1;
      if (calls < 3) throw new Error('Redis did not answer');
      done = true;
    }, 200);
    await loop.start();
    expect(done).toBe(false);
    await waitFor(async () => done, { what: 'the poll to retry until the run succeeds' });
    expect(calls).toBe(3);
  });

  it('listens again after its connection is killed, and catches up with a full run', async () => {
    const passes: boolean[] = [];
    const { loop, channel } = make(async ({ full }) => {
      passes.push(full);
    });
    await loop.start();
    const killed = await pool.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE application_name = 'loop-test' AND query LIKE $1`,
      [`%${channel}%`],
    );
    expect(killed.rows.map((r) => r.ok)).toEqual([true]);
    await waitFor(async () => !loop.listening, { what: 'the loop to notice the lost connection' });
    await waitFor(async () => loop.listening, { what: 'the loop to listen again' });
    await waitFor(async () => passes.filter(Boolean).length === 2, { what: 'the catch-up run' });

    const before = passes.length;
    await inTransaction(channel, true);
    await waitFor(async () => passes.length === before + 1, { what: 'a notification after the reconnect' });
    expect(passes[passes.length - 1]).toBe(false);
  });

  it('stop() waits for the run in flight and starts no other', async () => {
    let finished = false;
    let runs = 0;
    const { loop, channel } = make(async ({ full }) => {
      runs += 1;
      if (!full) {
        await sleep(300);
        finished = true;
      }
    });
    await loop.start();
    await inTransaction(channel, true);
    await waitFor(async () => runs === 2, { what: 'the notified run to start' });
    void loop.wake(true);
    await loop.stop();
    expect(finished).toBe(true);
    expect(runs).toBe(2);
    await inTransaction(channel, true);
    await sleep(200);
    expect(runs).toBe(2);
  });
});
