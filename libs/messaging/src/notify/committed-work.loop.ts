import { Client } from 'pg';
import type { Logger } from 'pino';
import type { CommitNotifier } from './commit-notifier';

export interface CommittedWorkLoopOptions {
  /** Names the LISTEN connection (`application_name`) and the log lines. */
  name: string;
  databaseUrl: string;
  /** The PostgreSQL channel the writers NOTIFY once the work they commit has committed. */
  channel: string;
  /** Fallback run when no notification arrives (listener down, work that only becomes due with time). */
  pollIntervalMs: number;
  logger: Logger;
  /**
   * Does the work. `full` is true for the start-up run and the fallback poll (look at everything,
   * including what an earlier run may have left half-done), false for a run woken by a notification.
   */
  run: (pass: { full: boolean }) => Promise<void>;
  /** Delay before re-LISTENing after the connection dropped. */
  reconnectMs?: number;
  /**
   * This process's writers: their commits wake the loop at once (no round trip to the database), and
   * the NOTIFYs they send for other replicas are skipped here (the local wake-up took that work).
   */
  notifier?: CommitNotifier;
}

/**
 * Runs work that transactions commit to the database, soon after they commit. Writers in this process
 * wake it at once through the `notifier`, other processes by a NOTIFY on the channel (sent after their
 * commit, or inside their transaction: PostgreSQL delivers it only on commit); a poll is the fallback,
 * so work committed just before a crash, or while the listener was down, is still picked up.
 *
 * Single-flight: at most one run at a time; wake-ups that arrive during a run coalesce into one more
 * run (a full one if any of them asked for it). A failed run is logged and left to the next wake-up or
 * poll, so the work itself must be idempotent and resumable: the loop guarantees "soon and again",
 * never "once".
 */
export class CommittedWorkLoop {
  private listener: Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private pending: { full: boolean } | null = null;
  private stopped = false;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: CommittedWorkLoopOptions) {}

  /**
   * Starts listening and polling, and resolves when the first (full) run has finished. A database
   * that refuses the LISTEN does not stop the start: the loop polls and keeps trying to listen.
   */
  async start(): Promise<void> {
    this.stopped = false;
    this.unsubscribe?.();
    this.unsubscribe =
      this.options.notifier?.onNotify(this.options.channel, () => void this.wake(false)) ?? null;
    await this.listen(false).catch((err) => this.listenFailed(err as Error));
    this.timer = setInterval(() => this.wake(true), this.options.pollIntervalMs);
    this.timer.unref?.();
    await this.wake(true);
  }

  /** Finishes the run in flight (no new one starts), then closes the listener. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
  }

  /** Asks for a run; resolves when the run that covers this request has finished. */
  wake(full = false): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      // The run in flight takes this request as one more pass before it settles.
      this.pending = { full: (this.pending?.full ?? false) || full };
      return this.running;
    }
    this.running = this.drain({ full });
    return this.running;
  }

  /** True once stop() was called: long runs should end their current batch and return. */
  get stopping(): boolean {
    return this.stopped;
  }

  get listening(): boolean {
    return this.listener !== null;
  }

  private async drain(first: { full: boolean }): Promise<void> {
    let pass: { full: boolean } | null = first;
    try {
      while (pass && !this.stopped) {
        this.pending = null;
        try {
          await this.options.run(pass);
        } catch (err) {
          this.options.logger.warn(
            { err: (err as Error).message, loop: this.options.name },
            'run failed; retried on the next notification or poll',
          );
        }
        pass = this.pending;
      }
    } finally {
      this.running = null;
    }
  }

  private async listen(reconnect: boolean): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.options.databaseUrl,
      application_name: this.options.name,
    });
    client.on('notification', (n) => {
      if (this.options.notifier?.sentByThis(n.payload)) return;
      void this.wake(false);
    });
    client.on('error', (err) => {
      if (this.listener === client) this.listener = null;
      void client.end().catch(() => undefined);
      this.listenFailed(err);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel}"`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    // Whatever was committed while nobody listened.
    if (reconnect) void this.wake(true);
  }

  private reconnecting = false;

  private listenFailed(err: Error): void {
    if (this.stopped || this.reconnecting) return;
    this.options.logger.warn(
      { err: err.message, loop: this.options.name },
      'LISTEN connection unavailable; polling until it is back',
    );
    this.reconnecting = true;
    setTimeout(() => {
      this.reconnecting = false;
      this.listen(true).catch((e) => this.listenFailed(e as Error));
    }, this.options.reconnectMs ?? 1_000).unref?.();
  }
}
