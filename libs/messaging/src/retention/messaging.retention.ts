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
    const { schema, outboxHours, inboxHours, deadLettersHours } = this.options;
    return {
      outbox: await this.deleteInBatches(
        `DELETE FROM "${schema}".outbox WHERE id IN (
           SELECT id FROM "${schema}".outbox
           WHERE published_at IS NOT NULL AND published_at < clock_timestamp() - make_interval(hours => $1)
           LIMIT $2)`,
        outboxHours,
      ),
      inbox: await this.deleteInBatches(
        `DELETE FROM "${schema}".inbox WHERE ctid IN (
           SELECT ctid FROM "${schema}".inbox
           WHERE processed_at < clock_timestamp() - make_interval(hours => $1)
           LIMIT $2)`,
        inboxHours,
      ),
      dead_letters: await this.deleteInBatches(
        `DELETE FROM "${schema}".dead_letters WHERE id IN (
           SELECT id FROM "${schema}".dead_letters
           WHERE dead_lettered_at < clock_timestamp() - make_interval(hours => $1)
           LIMIT $2)`,
        deadLettersHours,
      ),
    };
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
