import { CommitNotifier } from '@alerta-rosa/messaging';
import { createLogger } from '@alerta-rosa/observability';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { TestStack, sleep, waitFor } from '../support/stack';

/**
 * Wake-ups sent after the commit (PostgreSQL serialises the commits of transactions that NOTIFY): on
 * real PostgreSQL, a LISTEN connection sees a wake-up only once the transaction committed, never for
 * one rolled back or for a savepoint released inside an open transaction; this process's listeners are
 * called at once; a run of wake-ups while one is in flight becomes one more.
 */
describe('commit notifier on real PostgreSQL', () => {
  let stack: TestStack;
  let db: DataSource;
  let listener: Client;
  let notifier: CommitNotifier;
  const received: { channel: string; at: number }[] = [];
  const CHANNEL = 'probe_channel';

  beforeAll(async () => {
    stack = await TestStack.create();
    db = new DataSource({ type: 'postgres', url: stack.databaseUrl, poolSize: 4 });
    await db.initialize();
    await db.query(`CREATE TABLE probe (id serial PRIMARY KEY)`);
    listener = new Client({ connectionString: stack.databaseUrl });
    await listener.connect();
    listener.on('notification', (n) => received.push({ channel: n.channel, at: Date.now() }));
    await listener.query(`LISTEN ${CHANNEL}`);
    notifier = new CommitNotifier({
      databaseUrl: stack.databaseUrl,
      logger: createLogger('probe', 'silent'),
    });
  });

  afterAll(async () => {
    await notifier?.close();
    await listener?.end();
    await db?.destroy();
    await stack?.teardown();
  });

  beforeEach(() => void received.splice(0));

  it('wakes LISTEN connections and local listeners only after the commit, and not for a rollback', async () => {
    let local = 0;
    const off = notifier.onNotify(CHANNEL, () => local++);
    const runner = db.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query(`INSERT INTO probe DEFAULT VALUES`);
    notifier.afterCommit(runner.manager, CHANNEL);
    notifier.afterCommit(runner.manager, CHANNEL); // twice in one transaction: one wake-up
    await sleep(300);
    expect(received).toEqual([]);
    expect(local).toBe(0);
    const committedAt = Date.now();
    await runner.commitTransaction();
    expect(local).toBe(1);
    await waitFor(async () => received.length >= 1, { what: 'the wake-up after commit' });
    expect(received[0].at).toBeGreaterThanOrEqual(committedAt);

    await runner.startTransaction();
    await runner.query(`INSERT INTO probe DEFAULT VALUES`);
    notifier.afterCommit(runner.manager, CHANNEL);
    await runner.rollbackTransaction();
    // The same runner's next transaction commits without asking: the rolled-back request is gone.
    await runner.startTransaction();
    await runner.query(`INSERT INTO probe DEFAULT VALUES`);
    await runner.commitTransaction();
    await sleep(300);
    expect(received).toHaveLength(1);
    expect(local).toBe(1);
    await runner.release();
    off();
  });

  it('waits for the outer commit when a savepoint is released', async () => {
    await db.transaction(async (outer) => {
      await outer.transaction(async (inner) => {
        await inner.query(`INSERT INTO probe DEFAULT VALUES`);
        notifier.afterCommit(inner, CHANNEL);
      });
      await sleep(300);
      expect(received).toEqual([]);
    });
    await waitFor(async () => received.length >= 1, { what: 'the wake-up after the outer commit' });
  });

  it('sends one more NOTIFY for the wake-ups asked for while one is in flight, not one each', async () => {
    for (let i = 0; i < 10; i++) notifier.notify(CHANNEL);
    await waitFor(async () => received.length >= 2, { what: 'two wake-ups' });
    await sleep(300);
    expect(received).toHaveLength(2);
  });

  it('refuses a request outside a transaction', () => {
    expect(() => notifier.afterCommit(db.manager, CHANNEL)).toThrow(/inside a transaction/);
  });
});
