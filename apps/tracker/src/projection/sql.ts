import { EntityManager } from 'typeorm';

/** What the projection needs of a database connection: run a statement, get its rows. */
export interface Sql {
  query<T = Record<string, any>>(text: string, params?: unknown[]): Promise<T[]>;
}

interface PgClient {
  query(config: { name?: string; text: string; values?: unknown[] }): Promise<{ rows: unknown[] }>;
}

const statementNames = new Map<string, string>();

/**
 * The projection's statements run for every event: as named (prepared) statements, PostgreSQL parses and
 * plans each once per connection instead of on every event.
 */
function prepared(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `tracker_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return name;
}

/** A TypeORM transaction as Sql (rows of SELECT and of INSERT/UPDATE … RETURNING alike). */
export function sqlOf(manager: EntityManager, prepare = false): Sql {
  return {
    async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
      const runner = manager.queryRunner;
      if (!runner) throw new Error('sqlOf needs a transactional EntityManager');
      const client = (runner as unknown as { databaseConnection?: PgClient }).databaseConnection;
      if (prepare && client) {
        return (await client.query({ name: prepared(text), text, values: params })).rows as T[];
      }
      const result = await runner.query(text, params, true);
      return (result.records ?? []) as T[];
    },
  };
}

/** A node-postgres client or pool as Sql. */
export function sqlOfPg(client: {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}): Sql {
  return {
    async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
      return (await client.query(text, params)).rows as T[];
    },
  };
}

/** Quoted schema-qualified name. */
export function qualified(schema: string, table: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`bad schema name ${schema}`);
  return `"${schema}".${table}`;
}

/**
 * Runs read queries written against the live schema (`tracker.`) on another one: tracker:rebuild computes
 * the committee's figures over the rebuilt projection with the very same SQL.
 */
export function inSchema(sql: Sql, schema: string): Sql {
  if (schema === 'tracker') return sql;
  const target = qualified(schema, '');
  return {
    query: <T>(text: string, params?: unknown[]) =>
      sql.query<T>(text.replace(/\btracker\./g, target), params),
  };
}
