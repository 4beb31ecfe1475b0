import { ChildProcess, spawn } from 'child_process';
import IORedis from 'ioredis';
import { freePort, waitFor } from './stack';

/**
 * A private redis-server for tests that stop or restart Redis, so the shared one other test files use
 * is never disturbed. No persistence (`--save ''`, no AOF): a restart comes back empty, as a Redis
 * that lost its data would.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(readonly port: number) {}

  static async create(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(() => this.ping(), { timeoutMs: 10_000, what: `redis-server on port ${this.port}` });
  }

  /** Kills the server (SIGKILL: what it held is gone, as after a crash). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    child.kill('SIGKILL');
    await this.exited;
  }

  private async ping(): Promise<boolean> {
    const client = new IORedis(this.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }
}
