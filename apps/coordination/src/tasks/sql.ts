import { CommitNotifier } from '@alerta-rosa/messaging';
import { DataSource, EntityManager } from 'typeorm';

/** Rows of a statement run in the manager's transaction (SELECT, or INSERT/UPDATE/DELETE … RETURNING). */
export async function rows<T = Record<string, any>>(
  manager: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (!manager.queryRunner) throw new Error('rows() needs a transactional EntityManager');
  const result = await manager.queryRunner.query(sql, params, true);
  return (result.records ?? []) as T[];
}

/** Rows of one statement run on its own (auto-commit: no BEGIN/COMMIT round trips), e.g. UPDATE … RETURNING. */
export async function rowsOnce<T = Record<string, any>>(
  dataSource: DataSource,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const runner = dataSource.createQueryRunner();
  try {
    const result = await runner.query(sql, params, true);
    return (result.records ?? []) as T[];
  } finally {
    await runner.release();
  }
}

/** Channel on which committed work wakes the JobDispatcher. */
export const DISPATCH_CHANNEL = 'coordination_dispatch';

/**
 * Wakes the dispatcher once the transaction commits, to hand new mails and timers to the queues (after
 * the commit, not by a NOTIFY inside it: PostgreSQL serialises the commits of transactions that NOTIFY).
 */
export function notifyDispatch(notifier: CommitNotifier, manager: EntityManager): void {
  notifier.afterCommit(manager, DISPATCH_CHANNEL);
}
