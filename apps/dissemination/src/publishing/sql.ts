import { EntityManager } from 'typeorm';

/**
 * Runs UPDATE/DELETE … RETURNING and gives the returned rows. (TypeORM's postgres driver answers
 * `[rows, rowCount]` for UPDATE and DELETE but plain rows for SELECT and INSERT.)
 */
export async function updateReturning<T = Record<string, any>>(
  m: Pick<EntityManager, 'query'>,
  sql: string,
  params: unknown[],
): Promise<T[]> {
  const result = await m.query(sql, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
