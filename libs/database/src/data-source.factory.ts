import { DataSource, DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import { PreparingClient } from './preparing-client';

export interface ServiceDataSourceInput {
  url: string;
  /** The service's own PostgreSQL schema; no service touches another's. */
  schema: string;
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MixedList<Function | string>;
  poolSize?: number;
  /** Idle connections are closed after this long (ms); 0 keeps them. */
  poolIdleMs?: number;
  /** Parameterised statements run as named prepared statements (PreparingClient); default true. */
  prepareStatements?: boolean;
  applicationName: string;
}

/** TypeORM options for one service. Migrations only; never `synchronize`. */
export function serviceDataSourceOptions(input: ServiceDataSourceInput): DataSourceOptions {
  return {
    type: 'postgres',
    url: input.url,
    schema: input.schema,
    entities: input.entities,
    migrations: input.migrations,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    logging: ['error'],
    applicationName: input.applicationName,
    // TCP keep-alive on connections that may sit idle for days between alerts.
    extra: {
      max: input.poolSize ?? 10,
      idleTimeoutMillis: input.poolIdleMs ?? 10_000,
      keepAlive: true,
      ...(input.prepareStatements === false ? {} : { Client: PreparingClient }),
    },
  };
}

/** Runs pending migrations under a PostgreSQL advisory lock so that two replicas never race. */
export async function runMigrations(dataSource: DataSource, schema: string): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`migrations:${schema}`]);
    await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    const done = await dataSource.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await runner
      .query('SELECT pg_advisory_unlock(hashtext($1))', [`migrations:${schema}`])
      .catch(() => undefined);
    await runner.release();
  }
}

/** The name TypeORM records for a migration class (its `name` property, else the class name). */
export function migrationName(migration: Function): string {
  const instance = new (migration as new () => { name?: string })();
  return instance.name || migration.name;
}

/**
 * Whether every one of `migrations` is already recorded in the schema's migrations table: one query on
 * one connection, without the advisory lock or a TypeORM data source. A restart (the usual start) then
 * skips the migration step; anything missing (or no table, schema or database yet) answers false and
 * the caller runs `runMigrations`, which decides under the lock.
 */
export async function migrationsApplied(
  url: string,
  schema: string,
  migrations: Function[],
): Promise<boolean> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: url, application_name: `${schema}-migrations-check` });
  try {
    await client.connect();
    const { rows } = await client.query<{ name: string }>(`SELECT name FROM "${schema}".migrations`);
    const applied = new Set(rows.map((r) => r.name));
    return migrations.every((m) => applied.has(migrationName(m)));
  } catch {
    return false; // no database, schema or table yet (or the database is away: runMigrations will say)
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates the database named in a postgres URL when it does not exist (dev and test convenience). */
export async function ensureDatabase(url: string): Promise<void> {
  const { Client } = await import('pg');
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[a-zA-Z0-9_]+$/.test(name)) throw new Error(`refusing to create database with name "${name}"`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name}"`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
}
