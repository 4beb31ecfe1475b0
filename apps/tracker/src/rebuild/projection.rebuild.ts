import { ALL_TOPICS, Envelope, decodeEvent, physicalTopic } from '@alerta-rosa/contracts';
import { createHash, randomBytes } from 'crypto';
import { Kafka } from 'kafkajs';
import { Pool, PoolClient } from 'pg';
import { CommitteeFilters } from '../committee/committee.query';
import { CommitteeRepository } from '../committee/committee.repository';
import { CommitteeService } from '../committee/committee.service';
import { GeographyCatalog } from '../committee/geography.catalog';
import { PROJECTION_TABLES, Projector } from '../projection/projector';
import { Sql, inSchema, qualified, sqlOfPg } from '../projection/sql';

export interface RebuildOptions {
  pool: Pool;
  kafka: Kafka;
  topicPrefix: string;
  geography: GeographyCatalog;
  /** Schema of the fresh projection (dropped and created). */
  schema: string;
  /** Events applied per transaction at most. */
  batchSize?: number;
  /** Keep the rebuilt schema for inspection. */
  keep?: boolean;
  /** Database connections writing in parallel (partitions split between them); the pool must have 1 + this. */
  workers?: number;
  log?: (line: string) => void;
}

export interface TableDigest {
  table: string;
  live: { rows: number; digest: string };
  rebuilt: { rows: number; digest: string };
  equal: boolean;
}

export interface RebuildReport {
  tables: TableDigest[];
  /** Per alert and producer, the order in which entries were recorded. */
  order: { live: string; rebuilt: string; equal: boolean };
  figures: { live: string; rebuilt: string; equal: boolean };
  equal: boolean;
  /** Messages read from Kafka (up to the live consumer's position), events applied, skipped. */
  messages: number;
  applied: number;
  undecodable: number;
  failed: number;
  consumeSeconds: number;
  eventsPerSecond: number;
  differences: string[];
}

interface Writer {
  client: PoolClient;
  buffer: Envelope[];
  chain: Promise<void>;
  queued: number;
}

const LIVE = 'tracker';
const LIVE_GROUP = 'alerta-rosa.tracker';

/** Columns a digest leaves out: where and when the live tracker happened to record a row. */
const VOLATILE: Record<string, string[]> = { timeline_entries: ['seq', 'recorded_at'] };

/** Sort key of each table's rows in a digest. */
const KEYS: Record<string, string> = {
  timeline_entries: 'event_id',
  alerts: 'alert_id',
  publications: 'publication_id',
  tasks: 'task_id',
  withdrawal_delays: 'alert_id, account_id',
};

async function columnsOf(sql: Sql, schema: string, table: string): Promise<string[]> {
  const rows = await sql.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [schema, table],
  );
  return rows.map((r) => r.column_name).filter((c) => !(VOLATILE[table] ?? []).includes(c));
}

async function digestTable(sql: Sql, schema: string, table: string, columns: string[]) {
  const list = columns.map((c) => `"${c}"`).join(', ');
  const [row] = await sql.query<{ rows: number; digest: string | null }>(
    `SELECT count(*)::int AS rows,
            md5(string_agg(md5(ROW(${list})::text), '' ORDER BY ${KEYS[table]})) AS digest
       FROM ${qualified(schema, table)}`,
  );
  return { rows: row.rows, digest: row.digest ?? md5('') };
}

/** Entries of each alert, per producer (= per topic), in the order recorded: equal when order was kept. */
async function digestOrder(sql: Sql, schema: string): Promise<string> {
  const [row] = await sql.query<{ digest: string | null }>(
    `SELECT md5(string_agg(event_id::text, ',' ORDER BY alert_id, source, seq)) AS digest
       FROM ${qualified(schema, 'timeline_entries')}`,
  );
  return row.digest ?? md5('');
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

async function figuresDigest(sql: Sql, schema: string, geography: GeographyCatalog, asOf: Date) {
  const service = new CommitteeService(null as never, new CommitteeRepository(), geography);
  const filters: CommitteeFilters = { from: new Date(0), to: asOf, limit: 0, offset: 0 };
  const figures = await service.periodFrom(inSchema(sql, schema), filters, asOf);
  const { definitions: _d, outcomeLabels: _o, ...numbers } = figures;
  return { digest: createHash('sha256').update(JSON.stringify(numbers)).digest('hex'), figures: numbers };
}

/**
 * How a replay reads the topics: large fetches (16 MB per partition instead of kafkajs' 1 MB), several
 * partitions at once. The benchmark's raw consume reads with the same settings, so the two compare.
 */
export const REPLAY_FETCH = {
  maxBytes: 64 * 1024 * 1024,
  maxBytesPerPartition: 16 * 1024 * 1024,
  maxWaitTimeInMs: 100,
} as const;
export const REPLAY_PARTITIONS_AT_ONCE = 4;

/**
 * Copies the live projection tables' structure (columns, defaults, constraints, indexes) into `schema`,
 * as UNLOGGED tables (a scratch copy made to be compared: no WAL). Indexes that are not unique are left
 * for later (one build each after the load is cheaper than maintaining them row by row): their
 * definitions are returned, for `createDeferredIndexes`.
 */
async function createProjectionSchema(client: PoolClient, schema: string): Promise<string[]> {
  const s = qualified(schema, '').slice(0, -1);
  await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await client.query(`CREATE SCHEMA ${s}`);
  for (const table of PROJECTION_TABLES) {
    await client.query(
      `CREATE UNLOGGED TABLE ${qualified(schema, table)} (LIKE ${qualified(LIVE, table)} INCLUDING ALL)`,
    );
    // A copied serial default still points at the live sequence: give the copy its own.
    const serials = await client.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = $2 AND column_default LIKE 'nextval(%'`,
      [schema, table],
    );
    for (const { column_name } of serials.rows) {
      const seq = qualified(schema, `${table}_${column_name}_seq`);
      await client.query(
        `CREATE UNLOGGED SEQUENCE ${seq} OWNED BY ${qualified(schema, table)}.${column_name}`,
      );
      await client.query(
        `ALTER TABLE ${qualified(schema, table)} ALTER COLUMN ${column_name} SET DEFAULT nextval('${seq}')`,
      );
    }
  }
  const deferred = await client.query<{ name: string; def: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT i.indisunique ORDER BY 1`,
    [schema],
  );
  for (const { name } of deferred.rows) await client.query(`DROP INDEX ${name}`);
  return deferred.rows.map((r) => r.def);
}

/** Builds the indexes `createProjectionSchema` left for after the load, one connection each at once. */
async function createDeferredIndexes(clients: PoolClient[], defs: string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < defs.length) await client.query(defs[next++]);
    }),
  );
}

/**
 * tracker:rebuild. Replays every topic from the beginning into a fresh projection (its own schema), up to
 * the position the live tracker had reached in one snapshot of its database, then compares the two: the
 * same rows (timeline, alerts, publications, tasks, withdrawal delays), the same order of each alert's
 * entries per topic, and the same committee figures. Digests of each are returned and printed.
 */
export async function rebuildProjection(o: RebuildOptions): Promise<RebuildReport> {
  const log = o.log ?? (() => undefined);
  const batchSize = o.batchSize ?? 5_000;
  const topics = ALL_TOPICS.map((t) => physicalTopic(o.topicPrefix, t));
  const admin = o.kafka.admin();
  await admin.connect();
  // Committed offsets first, then the snapshot: the snapshot holds at least what they cover.
  const committed = new Map<string, number>();
  for (const t of await admin.fetchOffsets({ groupId: physicalTopic(o.topicPrefix, LIVE_GROUP), topics })) {
    for (const p of t.partitions) committed.set(`${t.topic}/${p.partition}`, Math.max(0, Number(p.offset)));
  }
  const liveClient = await o.pool.connect();
  const buildClient = await o.pool.connect();
  const extraClients: PoolClient[] = [];
  const workers = Math.max(1, o.workers ?? 2);
  let consumer: ReturnType<Kafka['consumer']> | null = null;
  const groupId = `alerta-rosa.tracker-rebuild-${randomBytes(4).toString('hex')}`;
  try {
    await liveClient.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const live = sqlOfPg(liveClient);
    const positions = await live.query<{ topic: string; kafka_partition: number; max: string }>(
      `SELECT topic, kafka_partition, max(kafka_offset) AS max FROM tracker.inbox WHERE consumer = $1 GROUP BY 1, 2`,
      [LIVE_GROUP],
    );
    const end = new Map<string, number>(committed);
    for (const p of positions) {
      const key = `${p.topic}/${p.kafka_partition}`;
      end.set(key, Math.max(end.get(key) ?? 0, Number(p.max) + 1));
    }
    const asOf = new Date();
    const liveFigures = await figuresDigest(live, LIVE, o.geography, asOf);

    const deferredIndexes = await createProjectionSchema(buildClient, o.schema);
    const build = sqlOfPg(buildClient);
    const projector = new Projector(o.schema, o.geography);

    // Partitions still to read, and how far.
    const pending = new Map<string, number>();
    for (const t of (await admin.fetchTopicMetadata({ topics })).topics) {
      for (const p of t.partitions) {
        const key = `${t.name}/${p.partitionId}`;
        if ((end.get(key) ?? 0) > 0) pending.set(key, end.get(key)!);
      }
    }
    log(
      `reading ${topics.length} topics up to the live tracker's position (${pending.size} partitions with events)`,
    );
    let messages = 0;
    let applied = 0;
    let undecodable = 0;
    let failed = 0;
    const started = performance.now();
    // Writers: an alert's events are on the same partition number in every topic (key = alert id), so
    // partitions split over writers never touch the same rows; each partition keeps its order.
    const writers: Writer[] = [{ client: buildClient, buffer: [], chain: Promise.resolve(), queued: 0 }];
    for (let i = 1; i < workers; i++)
      writers.push({ client: await o.pool.connect(), buffer: [], chain: Promise.resolve(), queued: 0 });
    extraClients.push(...writers.slice(1).map((w) => w.client));
    // A scratch copy: a commit need not wait for its (little, unlogged tables write none) WAL.
    for (const w of writers) await w.client.query('SET synchronous_commit = off');
    let decodeMs = 0;
    let writeMs = 0;
    let writeError: Error | null = null;
    const apply = async (w: Writer, events: Envelope[]) => {
      if (!events.length) return;
      const sql = sqlOfPg(w.client);
      const t0 = performance.now();
      try {
        await w.client.query('BEGIN');
        const n = (await projector.apply(sql, events)).applied.length;
        applied += n;
        await w.client.query('COMMIT');
      } catch {
        await w.client.query('ROLLBACK');
        // One by one: an event the live tracker dead-lettered is skipped here too.
        for (const e of events) {
          try {
            await w.client.query('BEGIN');
            const n = (await projector.apply(sql, [e])).applied.length;
            applied += n;
            await w.client.query('COMMIT');
          } catch {
            await w.client.query('ROLLBACK');
            failed++;
          }
        }
      }
      writeMs += performance.now() - t0;
    };
    /** Queues the writer's buffer; decoding goes on meanwhile, at most two batches ahead of the database. */
    const flush = async (w: Writer) => {
      const events = w.buffer.splice(0);
      if (!events.length) return;
      w.queued++;
      w.chain = w.chain
        .then(() => apply(w, events))
        .catch((err: Error) => void (writeError = err))
        .finally(() => w.queued--);
      if (w.queued > 2) await w.chain;
    };
    if (pending.size > 0) {
      consumer = o.kafka.consumer({ groupId, allowAutoTopicCreation: false, ...REPLAY_FETCH });
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      let finish: () => void = () => undefined;
      let fail: (err: Error) => void = () => undefined;
      const done = new Promise<void>((resolve, reject) => {
        finish = resolve;
        fail = reject;
      });
      consumer.on(consumer.events.CRASH, (e) =>
        fail(new Error(`rebuild consumer crashed: ${String(e.payload.error)}`)),
      );
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true, // a batch not resolved would be fetched again
        partitionsConsumedConcurrently: REPLAY_PARTITIONS_AT_ONCE,
        eachBatch: async ({ batch, heartbeat }) => {
          const key = `${batch.topic}/${batch.partition}`;
          const stop = pending.get(key);
          if (stop === undefined) return;
          const w = writers[batch.partition % writers.length];
          const t0 = performance.now();
          for (const m of batch.messages) {
            if (Number(m.offset) >= stop) break;
            messages++;
            try {
              w.buffer.push(decodeEvent(m.value));
            } catch {
              undecodable++;
            }
          }
          decodeMs += performance.now() - t0;
          // Events of several fetches share a transaction (the projection does not depend on how
          // events are batched or how partitions interleave).
          if (w.buffer.length >= batchSize) {
            await flush(w);
            await heartbeat();
          }
          const last = Number(batch.messages[batch.messages.length - 1]?.offset ?? -1);
          if (last + 1 >= stop) {
            pending.delete(key);
            if (pending.size === 0) {
              for (const x of writers) await flush(x);
              await Promise.all(writers.map((x) => x.chain));
              finish();
            }
          }
        },
      });
      await done;
      if (writeError) throw writeError;
    }
    // The projection is complete once its indexes are: their build counts in the rebuild's time.
    const indexed = performance.now();
    await createDeferredIndexes(
      writers.map((w) => w.client),
      deferredIndexes,
    );
    const indexSeconds = (performance.now() - indexed) / 1000;
    const consumeSeconds = (performance.now() - started) / 1000;
    log(
      `applied ${applied} events from ${messages} messages in ${consumeSeconds.toFixed(1)} s ` +
        `(${workers} writers; decoding ${(decodeMs / 1000).toFixed(1)} s, writing ${(writeMs / 1000).toFixed(1)} s, ` +
        `then ${deferredIndexes.length} indexes in ${indexSeconds.toFixed(1)} s)`,
    );

    const tables: TableDigest[] = [];
    const differences: string[] = [];
    for (const table of PROJECTION_TABLES) {
      const columns = await columnsOf(live, LIVE, table);
      const rebuiltColumns = await columnsOf(build, o.schema, table);
      if (columns.join() !== rebuiltColumns.join()) differences.push(`${table}: columns differ`);
      const l = await digestTable(live, LIVE, table, columns);
      const r = await digestTable(build, o.schema, table, columns);
      tables.push({ table, live: l, rebuilt: r, equal: l.rows === r.rows && l.digest === r.digest });
      if (l.digest !== r.digest) {
        const list = columns.map((c) => `"${c}"`).join(', ');
        // The live snapshot cannot be joined with the rebuilt schema from another session: compare keys here.
        const liveRows = await live.query<Record<string, unknown>>(
          `SELECT ${list} FROM ${qualified(LIVE, table)} ORDER BY ${KEYS[table]}`,
        );
        const builtRows = await build.query<Record<string, unknown>>(
          `SELECT ${list} FROM ${qualified(o.schema, table)} ORDER BY ${KEYS[table]}`,
        );
        const text = (r: Record<string, unknown>) => JSON.stringify(r);
        const built = new Set(builtRows.map(text));
        const liveSet = new Set(liveRows.map(text));
        for (const r of liveRows.filter((x) => !built.has(text(x))).slice(0, 3))
          differences.push(`${table} live only: ${text(r)}`);
        for (const r of builtRows.filter((x) => !liveSet.has(text(x))).slice(0, 3))
          differences.push(`${table} rebuilt only: ${text(r)}`);
      }
    }
    const order = {
      live: await digestOrder(live, LIVE),
      rebuilt: await digestOrder(build, o.schema),
      equal: false,
    };
    order.equal = order.live === order.rebuilt;
    const rebuiltFigures = await figuresDigest(build, o.schema, o.geography, asOf);
    const figures = {
      live: liveFigures.digest,
      rebuilt: rebuiltFigures.digest,
      equal: liveFigures.digest === rebuiltFigures.digest,
    };
    if (!figures.equal) {
      differences.push(`figures live: ${JSON.stringify(liveFigures.figures.counts)}`);
      differences.push(`figures rebuilt: ${JSON.stringify(rebuiltFigures.figures.counts)}`);
    }
    await liveClient.query('COMMIT');
    return {
      tables,
      order,
      figures,
      equal: tables.every((t) => t.equal) && order.equal && figures.equal && differences.length === 0,
      messages,
      applied,
      undecodable,
      failed,
      consumeSeconds,
      eventsPerSecond: consumeSeconds > 0 ? messages / consumeSeconds : 0,
      differences,
    };
  } finally {
    await consumer?.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await liveClient.query('ROLLBACK').catch(() => undefined);
    liveClient.release();
    if (!o.keep)
      await buildClient
        .query(`DROP SCHEMA IF EXISTS ${qualified(o.schema, '').slice(0, -1)} CASCADE`)
        .catch(() => undefined);
    buildClient.release();
    for (const c of extraClients) c.release();
  }
}
