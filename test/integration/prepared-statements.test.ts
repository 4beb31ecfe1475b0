import { PreparingClient, serviceDataSourceOptions, statementName } from '@alerta-rosa/database';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { TestStack } from '../support/stack';

/**
 * The services' connections run parameterised statements as named prepared statements (parsed and
 * planned once per connection), through TypeORM and through plain pg pools alike, on real PostgreSQL:
 * the statement is prepared on the connection, answers are those of the unnamed statement, transaction
 * control is untouched, and a statement whose result columns changed under it (a migration added a
 * column to a `SELECT *`) still answers.
 */
describe('prepared statements (PreparingClient) on real PostgreSQL', () => {
  let stack: TestStack;
  let db: DataSource;

  beforeAll(async () => {
    stack = await TestStack.create();
    db = new DataSource(
      serviceDataSourceOptions({
        url: stack.databaseUrl,
        schema: 'public',
        entities: [],
        migrations: [],
        poolSize: 1, // one connection: what it has prepared is what the next statement finds
        applicationName: 'prepared-statements-test',
      }),
    );
    await db.initialize();
    await db.query(`CREATE TABLE probe (id int PRIMARY KEY, label text)`);
    await db.query(`INSERT INTO probe VALUES (1, 'uno'), (2, 'dos')`);
  });

  afterAll(async () => {
    await db?.destroy();
    await stack?.teardown();
  });

  const prepared = async (): Promise<string[]> =>
    (await db.query(`SELECT name FROM pg_prepared_statements ORDER BY name`)).map(
      (r: { name: string }) => r.name,
    );

  it('prepares a parameterised statement once on the connection and answers as the unnamed one would', async () => {
    const sql = `SELECT label FROM probe WHERE id = $1`;
    expect(await db.query(sql, [1])).toEqual([{ label: 'uno' }]);
    expect(await db.query(sql, [2])).toEqual([{ label: 'dos' }]);
    const name = statementName(sql)!;
    expect(name).toMatch(/^ar_/);
    expect((await prepared()).filter((n) => n === name)).toHaveLength(1);
    // UPDATE keeps TypeORM's [rows, affected] answer.
    expect(await db.query(`UPDATE probe SET label = $2 WHERE id = $1 RETURNING id`, [2, 'two'])).toEqual([
      [{ id: 2 }],
      1,
    ]);
    // Statements without parameters (and transaction control) are not prepared.
    const before = await prepared();
    await db.transaction(async (m) => {
      await m.query(`SELECT count(*) FROM probe`);
      await m.query(`UPDATE probe SET label = $2 WHERE id = $1`, [1, 'one']);
    });
    expect((await prepared()).length).toBe(before.length + 1);
    expect(await db.query(`SELECT label FROM probe WHERE id = $1`, [1])).toEqual([{ label: 'one' }]);
  });

  it('keeps answering a SELECT * whose table gained a column after it was prepared', async () => {
    const sql = `SELECT * FROM probe WHERE id = $1`;
    expect(await db.query(sql, [1])).toEqual([{ id: 1, label: 'one' }]);
    await db.query(`ALTER TABLE probe ADD COLUMN area text DEFAULT 'c4'`);
    expect(await db.query(sql, [1])).toEqual([{ id: 1, label: 'one', area: 'c4' }]);
    expect(statementName(sql)).toBeNull(); // unnamed from now on
    expect(await db.query(sql, [2])).toEqual([{ id: 2, label: 'two', area: 'c4' }]);
  });

  it('serves plain pg pools too, callback form included', async () => {
    const pool = new Pool({ connectionString: stack.databaseUrl, max: 1, Client: PreparingClient });
    try {
      const sql = `SELECT label FROM probe WHERE id = ANY($1::int[]) ORDER BY id`;
      expect((await pool.query(sql, [[1, 2]])).rows).toEqual([{ label: 'one' }, { label: 'two' }]);
      const viaCallback = await new Promise<unknown>((resolve, reject) =>
        pool.query(sql, [[2]], (err, res) => (err ? reject(err) : resolve(res.rows))),
      );
      expect(viaCallback).toEqual([{ label: 'two' }]);
      const { rows } = await pool.query(`SELECT name FROM pg_prepared_statements WHERE name = $1`, [
        statementName(sql),
      ]);
      expect(rows).toHaveLength(1);
      await expect(pool.query(`SELECT nope FROM probe WHERE id = $1`, [1])).rejects.toMatchObject({
        code: '42703',
      });
    } finally {
      await pool.end();
    }
  });
});
