import type { Logger } from 'pino';
import { DataSource } from 'typeorm';

export interface MessagingRetentionOptions {
  schema: string;
  dataSource: DataSource;
  logger: Logger;
  /** Published outbox rows older than this are deleted (unpublished rows never are). */
  outboxHours: number;
  /** Inbox rows (consumer, eventId) processed longer ago than this are deleted. */
  inboxHours: number;
  /** dead_letters rows older than this are deleted (the message itself stays on `<topic>.dlq`). */
  deadLettersHours: number;
  /** Rows deleted per statement, so a large backlog never holds long locks. */
  batchSize?: number;
}

export type RetentionTable = 'outbox' | 'inbox' | 'dead_letters';

export interface RetentionSweepResult {
  outbox: number;
  inbox: number;
  dead_letters: number;
}

/** A purge that runs on the same schedule as the messaging tables' sweep (e.g. intake's private data). */
export type RetentionTask = () => Promise<Record<string, number>>;

/**
 * Keeps the messaging tables every service owns (outbox, inbox, dead_letters) from growing without
 * bound: deletes rows older than the configured ages, in batches. Safe on several replicas at once
 * (a row is deleted once; a second replica simply finds nothing).
 */
export class MessagingRetention {
  private readonly batchSize: number;

  constructor(private readonly options: MessagingRetentionOptions) {
    this.batchSize = options.batchSize ?? 5_000;
  }

  async sweep(): Promise<RetentionSweepResult> {
    const { outboxHours, inboxHours, deadLettersHours } = this.options;
    return {
      // Only published rows: an unpublished one waits for Kafka, however old it is.
      outbox: await this.purge('outbox', 'id', 'published_at IS NOT NULL AND published_at', outboxHours),
      inbox: await this.purge('inbox', 'ctid', 'processed_at', inboxHours),
      dead_letters: await this.purge('dead_letters', 'id', 'dead_lettered_at', deadLettersHours),
    };
  }

  /** Deletes the table's rows whose `olderThan` time is more than `hours` ago, in batches. */
  private purge(table: RetentionTable, key: string, olderThan: string, hours: number): Promise<number> {
    const t = `"${this.options.schema}".${table}`;
    return this.deleteInBatches(
      `DELETE FROM ${t} WHERE ${key} IN (
         SELECT ${key} FROM ${t} WHERE ${olderThan} < clock_timestamp() - make_interval(hours => $1) LIMIT $2)`,
      hours,
    );
  }

  private async deleteInBatches(sql: string, hours: number): Promise<number> {
    let total = 0;
    for (;;) {
      // TypeORM returns [rows, affected] for DELETE on PostgreSQL.
      const result = (await this.options.dataSource.query(sql, [hours, this.batchSize])) as [unknown, number];
      const affected = Array.isArray(result) ? Number(result[1] ?? 0) : 0;
      total += affected;
      if (affected < this.batchSize) return total;
    }
  }
}
