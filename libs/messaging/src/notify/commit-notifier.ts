import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';

type Listener = () => void;

/**
 * Wake-ups for committed work, sent after the commit instead of inside the transaction.
 *
 * PostgreSQL serialises the commits of every transaction that NOTIFYs: one cluster-wide lock is taken
 * before the commit record and held until the commit is flushed, so that the queue of notifications
 * follows commit order. A NOTIFY in each outcome's transaction therefore made the 30 accounts' outcomes
 * of an alert — and everything else that NOTIFYs, in every service — commit one after the other, one
 * WAL flush each, with no group commit; on a loaded machine a transaction descheduled while holding the
 * lock held up all the others (a deactivation's fan-out waited 200–300 ms behind the deletions of the
 * alert before it). Sent on its own after the commit, a NOTIFY is a transaction with nothing to flush.
 *
 * A wake-up is only a wake-up: the work is in the committed rows, and every listener also polls. So the
 * NOTIFYs of one channel are coalesced (one in flight, one more after it if commits came meanwhile),
 * listeners in this process are called at once on commit, and a NOTIFY lost to a crash right after the
 * commit, or to the database being away, costs at most the listeners' poll interval.
 *
 * Each NOTIFY carries this notifier's `origin` as its payload: a listener in the same process that is
 * also woken locally (`onNotify`) skips the NOTIFYs of its own commits, which would wake it a second
 * time for work its first run already took (two runs per commit, each with its queries, while a
 * deactivation's 150 rounds and notices commit).
 */
export class CommitNotifier {
  private readonly pending = new WeakMap<QueryRunner, Set<string>>();
  private readonly watched = new WeakSet<DataSource>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly sending = new Map<string, 'sending' | 'again'>();
  private pool: Pool | null = null;
  private closed = false;
  /** The payload of this notifier's NOTIFYs (one per process). */
  private readonly origin = randomUUID();

  constructor(
    private readonly options: {
      /** The database whose listeners are woken (a connection of its own, opened on first use). */
      databaseUrl: string;
      logger: Logger;
      /** Bound on a NOTIFY's round trip (a half-open connection must not hold the channel's wake-ups). */
      timeoutMs?: number;
    },
  ) {}

  /**
   * In a transaction: once it commits, `channel` is notified. Nothing is sent if it rolls back. Called
   * again for the same channel in the same transaction, one wake-up.
   */
  afterCommit(manager: EntityManager, channel: string): void {
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) {
      throw new Error('CommitNotifier.afterCommit must run inside a transaction');
    }
    this.watch(manager.connection);
    let channels = this.pending.get(runner);
    if (!channels) this.pending.set(runner, (channels = new Set()));
    channels.add(channel);
  }

  /** Wakes the channel's listeners now (after a statement that committed on its own). */
  notify(channel: string): void {
    for (const listener of this.listeners.get(channel) ?? []) {
      try {
        listener();
      } catch (err) {
        this.options.logger.warn({ err: (err as Error).message, channel }, 'wake-up listener failed');
      }
    }
    this.send(channel);
  }

  /**
   * True for a NOTIFY this notifier sent: a listener also woken through `onNotify` has taken that
   * commit's work already and skips it.
   */
  sentByThis(payload: string | undefined): boolean {
    return payload === this.origin;
  }

  /** Called at once when this process commits a wake-up of `channel`; returns the unsubscribe. */
  onNotify(channel: string, listener: Listener): () => void {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = null;
    await pool?.end().catch(() => undefined);
  }

  private watch(dataSource: DataSource): void {
    if (this.watched.has(dataSource)) return;
    this.watched.add(dataSource);
    const subscriber: EntitySubscriberInterface = {
      afterTransactionCommit: ({ queryRunner }) => {
        // A released savepoint also reports a commit: the transaction is still open.
        if (queryRunner.isTransactionActive) return;
        const channels = this.pending.get(queryRunner);
        if (!channels) return;
        this.pending.delete(queryRunner);
        for (const channel of channels) this.notify(channel);
      },
      afterTransactionRollback: ({ queryRunner }) => {
        if (!queryRunner.isTransactionActive) this.pending.delete(queryRunner);
      },
    };
    dataSource.subscribers.push(subscriber);
  }

  /** One NOTIFY in flight per channel; commits meanwhile make one more after it. */
  private send(channel: string): void {
    if (this.closed) return;
    if (this.sending.has(channel)) {
      this.sending.set(channel, 'again');
      return;
    }
    this.sending.set(channel, 'sending');
    this.connection()
      .query(`SELECT pg_notify($1, $2)`, [channel, this.origin])
      .catch((err: Error) =>
        this.options.logger.warn(
          { err: err.message, channel },
          'wake-up not sent; the listeners poll for committed work',
        ),
      )
      .finally(() => {
        const again = this.sending.get(channel) === 'again';
        this.sending.delete(channel);
        if (again) this.send(channel);
      });
  }

  private connection(): Pool {
    if (!this.pool) {
      const timeout = this.options.timeoutMs ?? 5_000;
      this.pool = new Pool({
        connectionString: this.options.databaseUrl,
        max: 1,
        application_name: 'commit-notifier',
        idleTimeoutMillis: 30_000,
        allowExitOnIdle: true,
        connectionTimeoutMillis: timeout,
        query_timeout: timeout,
        keepAlive: true,
      });
      this.pool.on('error', (err) =>
        this.options.logger.warn({ err: err.message }, 'wake-up connection lost; opened again on next use'),
      );
    }
    return this.pool;
  }
}
