import { baseConfigSchema, loadConfigOrExit } from '@alerta-rosa/config';
import { createKafka } from '@alerta-rosa/messaging';
import { createLogger } from '@alerta-rosa/observability';
import { Pool } from 'pg';
import { z } from 'zod';
import { GeographyCatalog } from '../committee/geography.catalog';
import { RebuildReport, rebuildProjection } from './projection.rebuild';

const rebuildConfigSchema = baseConfigSchema.extend({
  /** Schema the fresh projection is built in (dropped first, and afterwards unless REBUILD_KEEP=true). */
  REBUILD_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .refine((s) => s !== 'tracker', 'must not be the live schema')
    .default('tracker_rebuild'),
  REBUILD_KEEP: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  REBUILD_BATCH: z.coerce.number().int().min(1).max(50_000).default(5_000),
  REBUILD_WORKERS: z.coerce.number().int().min(1).max(8).default(2),
  REGIONS_FILE: z.string().default('areas.yaml'),
  AVGM_FILE: z.string().default('data/avgm-2018.csv'),
});

export function printReport(r: RebuildReport, out: (line: string) => void = console.log): void {
  const mark = (ok: boolean) => (ok ? 'equal' : 'DIFFERENT');
  out('');
  out('table              live rows  rebuilt rows  live digest                       rebuilt digest');
  for (const t of r.tables) {
    out(
      `${t.table.padEnd(18)} ${String(t.live.rows).padStart(9)}  ${String(t.rebuilt.rows).padStart(12)}  ${t.live.digest}  ${t.rebuilt.digest}  ${mark(t.equal)}`,
    );
  }
  out(
    `${'timeline order'.padEnd(18)} ${''.padStart(9)}  ${''.padStart(12)}  ${r.order.live}  ${r.order.rebuilt}  ${mark(r.order.equal)}`,
  );
  out(`figures (sha256)   live    ${r.figures.live}`);
  out(`                   rebuilt ${r.figures.rebuilt}  ${mark(r.figures.equal)}`);
  out('');
  out(
    `${r.messages} messages read, ${r.applied} events applied, ${r.undecodable} undecodable, ${r.failed} failed; ` +
      `${r.consumeSeconds.toFixed(2)} s, ${Math.round(r.eventsPerSecond)} events/s`,
  );
  for (const d of r.differences) out(`difference: ${d}`);
  out(r.equal ? 'REBUILD EQUAL: the projection rebuilt from the topics is the live one.' : 'REBUILD DIFFERS');
}

async function main(): Promise<void> {
  const config = loadConfigOrExit('tracker:rebuild', rebuildConfigSchema);
  const logger = createLogger('tracker-rebuild', config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const pool = new Pool({
    connectionString: config.DATABASE_URL,
    max: 2 + config.REBUILD_WORKERS,
    application_name: 'tracker-rebuild',
  });
  const kafka = createKafka('alerta-rosa-tracker-rebuild', config.KAFKA_BROKERS, logger);
  try {
    const report = await rebuildProjection({
      pool,
      kafka,
      topicPrefix: config.KAFKA_TOPIC_PREFIX,
      geography: GeographyCatalog.load(config.REGIONS_FILE, config.AVGM_FILE),
      schema: config.REBUILD_SCHEMA,
      batchSize: config.REBUILD_BATCH,
      keep: config.REBUILD_KEEP,
      workers: config.REBUILD_WORKERS,
      log: (line) => console.log(line),
    });
    printReport(report);
    process.exitCode = report.equal ? 0 : 1;
  } finally {
    await pool.end();
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`tracker:rebuild failed: ${err.message}\n`);
    process.exit(2);
  });
}
