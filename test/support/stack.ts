import { AccessTokenVerifier, Role } from '@alerta-rosa/auth';
import { ChildProcess, spawn } from 'child_process';
import { randomBytes, randomUUID } from 'crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { Admin, Consumer, Kafka, KafkaMessage, logLevel } from 'kafkajs';
import { createServer } from 'net';
import { basename, dirname, join } from 'path';
import { Pool } from 'pg';

export type ServiceName =
  | 'intake'
  | 'dissemination'
  | 'coordination'
  | 'tracker'
  // The console's one origin (SPA + API proxy + live events); started with startGateway().
  | 'gateway'
  // Stand-ins for the outside world (plain HTTP servers; they ignore the database/Kafka settings).
  | 'x-sandbox'
  | 'facebook-sandbox'
  | 'partner-sandbox';

/** Project root (holds package.json), whether this file runs from test/ or from dist/test/. */
function findRoot(from: string): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  throw new Error('project root not found');
}
const ROOT = findRoot(__dirname);
export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Secret every service of a test stack shares for access tokens (AUTH_JWT_SECRET). */
export const TEST_JWT_SECRET = 'test-only-secret-for-alerta-rosa-access-tokens';

/**
 * A free TCP port for a test server or broker, chosen BELOW the kernel's ephemeral range (32768+ here):
 * a port from that range can be taken, while its server is stopped for a restart, by the local end of
 * an outgoing connection, or even by a client's TCP self-connect to it; then a restarted broker or
 * service finds its port busy. Each Jest worker draws from its own slice, so parallel files do not collide.
 */
export async function freePort(): Promise<number> {
  const worker = Math.max(1, Number(process.env.JEST_WORKER_ID ?? 1));
  const slice = 3_000;
  const base = 20_000 + ((worker - 1) % 4) * slice;
  for (let i = 0; i < 200; i++) {
    const port = base + Math.floor(Math.random() * slice);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port in ${base}–${base + slice}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  { timeoutMs = 20_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ServiceProcess {
  readonly lines: string[] = [];
  private exited: Promise<number | null>;
  exitCode: number | null | undefined;

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    const collect = (buf: Buffer) => this.lines.push(...buf.toString().split('\n').filter(Boolean));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(code);
      }),
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Parsed JSON log lines. */
  logs(): Record<string, unknown>[] {
    return this.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** Ready when /health answers 200 (HTTP listens only after consumer and relay have started). */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        if (!this.running) throw new Error(`${this.name} exited early:\n${this.lines.slice(-30).join('\n')}`);
        const res = await fetch(`${this.url}/health`).catch(() => undefined);
        return res?.status === 200;
      },
      { timeoutMs, intervalMs: 150, what: `${this.name} ready` },
    ).catch((err) => {
      throw new Error(
        `${(err as Error).message}\n--- ${this.name} log ---\n${this.lines.slice(-30).join('\n')}`,
      );
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  waitExit(): Promise<number | null> {
    return this.exited;
  }
}

export interface StackOptions {
  brokers?: string[];
  env?: Record<string, string>;
}

/**
 * An isolated copy of the system for one test file: its own database, its own topic prefix and
 * consumer groups, its own ports, on the real PostgreSQL and Kafka. Services run as real processes
 * (the compiled dist/), so tests can SIGKILL and restart them.
 */
export class TestStack {
  readonly id = randomBytes(4).toString('hex');
  readonly database = `ar_it_${this.id}`;
  readonly topicPrefix = `it-${this.id}`;
  /** Where intake keeps photo files for this stack (PHOTO_DIR); removed on teardown. */
  readonly photoDir = join(tmpdir(), `ar-photos-${this.id}`);
  private readonly tokens = new AccessTokenVerifier(TEST_JWT_SECRET);
  /** The duty operator every intake request is made as, unless the test says otherwise. */
  readonly operatorId = randomUUID();
  readonly brokers: string[];
  readonly pool: Pool;
  readonly kafka: Kafka;
  private readonly services = new Map<ServiceName, ServiceProcess>();
  /** Every process this stack started (restarts included), for the logs kept after the run. */
  private readonly started: ServiceProcess[] = [];
  private readonly ports = new Map<ServiceName, number>();
  private readonly consumers: Consumer[] = [];

  private constructor(private readonly options: StackOptions) {
    this.brokers = options.brokers ?? (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
    this.pool = new Pool({ connectionString: this.databaseUrl, max: 4 });
    // An idle client whose connection the server ends (a test terminating backends, DROP … FORCE at
    // teardown) is discarded and replaced by the pool; without a listener it would crash the test file.
    this.pool.on('error', () => undefined);
    this.kafka = new Kafka({
      clientId: `test-${this.id}`,
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 10, initialRetryTime: 200 },
    });
  }

  static async create(options: StackOptions = {}): Promise<TestStack> {
    const stack = new TestStack(options);
    const admin = new Pool({ connectionString: PG_ADMIN_URL, max: 1 });
    await admin.query(`CREATE DATABASE "${stack.database}"`);
    await admin.end();
    return stack;
  }

  get databaseUrl(): string {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${this.database}`;
    return url.toString();
  }

  topic(logical: string): string {
    return `${this.topicPrefix}.${logical}`;
  }

  service(name: ServiceName): ServiceProcess {
    const svc = this.services.get(name);
    if (!svc) throw new Error(`${name} not started`);
    return svc;
  }

  url(name: ServiceName): string {
    return this.service(name).url;
  }

  async start(name: ServiceName, env: Record<string, string> = {}): Promise<ServiceProcess> {
    const port = await this.portOf(name);
    const svc = await this.spawn(name, port, env);
    this.services.set(name, svc);
    return svc;
  }

  private async spawn(
    name: ServiceName,
    port: number,
    env: Record<string, string>,
    readyTimeoutMs?: number,
  ): Promise<ServiceProcess> {
    const child = spawn(
      process.execPath,
      [
        ...(env.NODE_ARGS_FOR_BENCH ? env.NODE_ARGS_FOR_BENCH.split(' ') : []),
        '-r',
        join(ROOT, 'infra/node/register-paths.js'),
        join(ROOT, `dist/apps/${name}/src/main.js`),
      ],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'test',
          LOG_LEVEL: 'debug',
          DATABASE_URL: this.databaseUrl,
          DATABASE_POOL_SIZE: '5',
          KAFKA_BROKERS: this.brokers.join(','),
          KAFKA_TOPIC_PREFIX: this.topicPrefix,
          QUEUE_PREFIX: this.topicPrefix,
          CONSUMER_RETRY_BACKOFF_MS: '50',
          AUTH_JWT_SECRET: TEST_JWT_SECRET,
          PHOTO_DIR: this.photoDir,
          PORT: String(port),
          ...this.options.env,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const svc = new ServiceProcess(name, port, child);
    this.started.push(svc);
    await svc.waitReady(readyTimeoutMs);
    return svc;
  }

  /**
   * Another process of a service already started (a second replica: same database, topics, queues),
   * on its own port; stopped with the stack. `stack.service(name)` keeps pointing at the first one.
   */
  async startReplica(name: ServiceName, env: Record<string, string> = {}): Promise<ServiceProcess> {
    // Joining a consumer group the first replica is in takes a rebalance: allow for a loaded machine.
    return this.spawn(name, await freePort(), env, 60_000);
  }

  /** The port a service has (or will have when started): to configure others with its URL beforehand. */
  async portOf(name: ServiceName): Promise<number> {
    const port = this.ports.get(name) ?? (await freePort());
    this.ports.set(name, port);
    return port;
  }

  /** The gateway in front of this stack's services (those not started point at a closed port). */
  async startGateway(env: Record<string, string> = {}): Promise<ServiceProcess> {
    const url = async (n: ServiceName) =>
      this.services.has(n) ? this.url(n) : `http://127.0.0.1:${await this.portOf(n)}`;
    return this.start('gateway', {
      INTAKE_URL: await url('intake'),
      DISSEMINATION_URL: await url('dissemination'),
      COORDINATION_URL: await url('coordination'),
      TRACKER_URL: await url('tracker'),
      ...env,
    });
  }

  async startAll(
    names: ServiceName[] = ['intake', 'dissemination', 'coordination', 'tracker'],
  ): Promise<void> {
    // Sequentially: the first start creates topics; parallel starts would race on creation harmlessly
    // but slow each other down on two cores.
    for (const n of names) await this.start(n);
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(sql, params)).rows as T[];
  }

  async http(
    name: ServiceName,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    headers = this.withAuth(name, headers);
    const res = await fetch(`${this.url(name)}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /** A signed access token, as intake's login would issue it (same secret, claims and lifetime). */
  token(role: Role, opts: { sub?: string; areaId?: string; ttlSeconds?: number } = {}): string {
    return this.tokens.sign(
      {
        sub: opts.sub ?? randomUUID(),
        role,
        ...(opts.areaId ? { areaId: opts.areaId } : role === 'area' ? { areaId: 'c4' } : {}),
      },
      opts.ttlSeconds ?? 900,
    );
  }

  bearer(role: Role, opts: { sub?: string; areaId?: string } = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token(role, opts)}` };
  }

  /**
   * Requests to intake go as the stack's duty operator, to the tracker as the comité, unless an
   * `authorization` header is given;
   * `authorization: ''` sends none (to test the guard).
   */
  private withAuth(name: ServiceName, headers: Record<string, string>): Record<string, string> {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === 'authorization');
    if (key !== undefined) {
      if (headers[key] !== '') return headers;
      const { [key]: _dropped, ...rest } = headers;
      return rest;
    }
    if (name === 'tracker') return { ...headers, authorization: `Bearer ${this.token('comite')}` };
    if (name !== 'intake') return headers;
    return { ...headers, authorization: `Bearer ${this.token('operadora', { sub: this.operatorId })}` };
  }

  /** Waits for the tracker's timeline of an alert to satisfy a predicate. */
  async timelineWhere(alertId: string, done: (entries: any[]) => boolean, timeoutMs = 20_000): Promise<any> {
    let seen = 'nothing yet';
    return waitFor(
      async () => {
        const res = await this.http('tracker', 'GET', `/api/v1/alerts/${alertId}/timeline`);
        if (res.status !== 200) {
          seen = `HTTP ${res.status}`;
          return undefined;
        }
        seen = res.body.entries
          .map((e: any) => `${e.type}${e.details?.consumer ? `(${e.details.consumer})` : ''}`)
          .join(', ');
        return done(res.body.entries) ? res.body : undefined;
      },
      { timeoutMs, what: `timeline of ${alertId}` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${seen}`);
    });
  }

  /** Reads every message currently on a physical topic (from the beginning) with a throwaway group. */
  async readTopic(
    physical: string,
    { expect, timeoutMs = 15_000 }: { expect: number; timeoutMs?: number },
  ): Promise<{ partition: number; message: KafkaMessage }[]> {
    const consumer = this.kafka.consumer({ groupId: `reader-${this.id}-${randomBytes(3).toString('hex')}` });
    this.consumers.push(consumer);
    const got: { partition: number; message: KafkaMessage }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: physical, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => void got.push({ partition, message }),
    });
    await waitFor(async () => got.length >= expect, {
      timeoutMs,
      what: `${expect} messages on ${physical}`,
    }).catch((err) => {
      throw new Error(`${(err as Error).message} (got ${got.length})`);
    });
    await sleep(300); // anything beyond the expected count would show up now
    await consumer.disconnect();
    return got;
  }

  async admin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect();
    }
  }

  /** Removes this stack's BullMQ keys (QUEUE_PREFIX = topic prefix). */
  clearRedis(): Promise<void> {
    return deleteRedisKeys(`${this.topicPrefix}:*`);
  }

  /** Service logs of this stack go to test-results/services/ (read them when a test fails in CI). */
  private keepLogs(): void {
    try {
      const dir = join(ROOT, 'test-results', 'services');
      mkdirSync(dir, { recursive: true });
      const testPath = (globalThis as { expect?: { getState(): { testPath?: string } } }).expect?.getState()
        .testPath;
      const stem = testPath ? basename(testPath).replace(/\.test\.ts$/, '') : 'bench';
      this.started.forEach((svc, i) =>
        writeFileSync(join(dir, `${stem}-${this.id}-${i}-${svc.name}.log`), svc.lines.join('\n') + '\n'),
      );
    } catch {
      // Logs are a convenience; never fail a teardown over them.
    }
  }

  /** Stops the services (keeping the database and topics, e.g. for a benchmark to look at later). */
  async stopServices(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.stop('SIGTERM', 10_000)));
    this.keepLogs();
    await this.pool.end();
  }

  async teardown(): Promise<void> {
    // Every process this stack started that still runs (replicas, and one that never became ready, too).
    await Promise.all(this.started.map((s) => s.stop('SIGTERM', 10_000)));
    this.keepLogs();
    await Promise.all(this.consumers.map((c) => c.disconnect().catch(() => undefined)));
    await this.pool.end();
    rmSync(this.photoDir, { recursive: true, force: true });
    const admin = new Pool({ connectionString: PG_ADMIN_URL, max: 1 });
    await admin.query(`DROP DATABASE IF EXISTS "${this.database}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await this.clearRedis().catch(() => undefined);
    await this.admin(async (a) => {
      const mine = (await a.listTopics()).filter((t) => t.startsWith(`${this.topicPrefix}.`));
      if (mine.length) await a.deleteTopics({ topics: mine });
    }).catch(() => undefined);
  }
}

export async function deleteRedisKeys(pattern: string): Promise<void> {
  const { default: IORedis } = await import('ioredis');
  const redis = new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export function minimalFicha(overrides: Record<string, unknown> = {}) {
  const now = Date.now();
  return {
    fullName: 'Ana Martínez López',
    age: 24,
    municipalityCode: '20067',
    lastSeenAt: new Date(now - 6 * 3600_000).toISOString(),
    reportedAt: new Date(now - 3600_000).toISOString(),
    // Intake keeps a new ficha as a draft unless asked to activate it at once.
    activate: true,
    ...overrides,
  };
}
