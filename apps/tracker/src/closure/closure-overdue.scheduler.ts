import { TOPICS, physicalTopic } from '@alerta-rosa/contracts';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Admin } from 'kafkajs';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { sqlOf } from '../projection/sql';
import { TrackerConfig } from '../tracker.config';
import { ClosureDecider } from './closure.decider';
import { ClosureRepository } from './closure.repository';

/** The topics whose events can close an alert. */
const CLOSING_TOPICS = [TOPICS.alerts, TOPICS.publications, TOPICS.tasks];

/**
 * Every CLOSURE_CHECK_INTERVAL_MS, flags the deactivated alerts not closed within
 * CLOSURE_OVERDUE_AFTER_SECONDS: each once (a decision row, taken under the alert's row lock, in the same
 * transaction as its AlertClosureOverdue in the outbox). Replicas skip the rows another one holds.
 *
 * A tracker catching up on a backlog (after downtime) would otherwise flag alerts whose closing events it
 * simply has not read yet, and mail the duty officer for nothing. So it flags an alert only as overdue at
 * an instant T0 up to which it has read everything: at T0 it notes the topics' end offsets; once its
 * consumer group has committed past them, an alert overdue at T0 and still not closed is overdue.
 */
@Injectable()
export class ClosureOverdueScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> | null = null;
  private admin: Admin | null = null;
  /** End offsets of the closing topics noted at `at`. */
  private mark: { at: Date; ends: Map<string, number> } | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: ClosureRepository,
    private readonly decider: ClosureDecider,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<TrackerConfig>,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.runtime.config.CLOSURE_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.admin?.disconnect().catch(() => undefined);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.flagOverdue()
      .catch(async (err: Error) => {
        this.runtime.logger.warn({ err: err.message }, 'overdue closure check failed; retried next tick');
        await this.admin?.disconnect().catch(() => undefined);
        this.admin = null;
        this.mark = null;
      })
      .finally(() => (this.running = null))
      .then(() => undefined);
    await this.running;
  }

  /** Flags what was overdue at the last instant the tracker has read everything up to; returns how many. */
  async flagOverdue(): Promise<number> {
    const afterSeconds = this.runtime.config.CLOSURE_OVERDUE_AFTER_SECONDS;
    const any = await this.dataSource.transaction((m) =>
      this.repo.overdueCandidates(sqlOf(m), afterSeconds, new Date(), 1),
    );
    if (any.length === 0) {
      this.mark = null;
      return 0;
    }
    const readUpTo = this.mark && (await this.consumedPast(this.mark.ends)) ? this.mark.at : null;
    this.mark = { at: new Date(), ends: await this.endOffsets() };
    if (!readUpTo) return 0;
    return this.dataSource.transaction(async (m) => {
      const ids = await this.repo.overdueCandidates(sqlOf(m), afterSeconds, readUpTo);
      let flagged = 0;
      for (const id of ids) if (await this.decider.flagOverdue(m, id)) flagged++;
      return flagged;
    });
  }

  private topics(): string[] {
    return CLOSING_TOPICS.map((t) => physicalTopic(this.runtime.config.KAFKA_TOPIC_PREFIX, t));
  }

  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.runtime.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }

  private async endOffsets(): Promise<Map<string, number>> {
    const admin = await this.connectedAdmin();
    const ends = new Map<string, number>();
    for (const topic of this.topics()) {
      for (const p of await admin.fetchTopicOffsets(topic))
        ends.set(`${topic}/${p.partition}`, Number(p.high));
    }
    return ends;
  }

  /** The tracker's consumer group has committed at least up to these end offsets on every partition. */
  private async consumedPast(ends: Map<string, number>): Promise<boolean> {
    const admin = await this.connectedAdmin();
    const groupId = physicalTopic(this.runtime.config.KAFKA_TOPIC_PREFIX, 'alerta-rosa.tracker');
    const committed = new Map<string, number>();
    for (const t of await admin.fetchOffsets({ groupId, topics: this.topics() })) {
      for (const p of t.partitions) committed.set(`${t.topic}/${p.partition}`, Math.max(0, Number(p.offset)));
    }
    return [...ends].every(([key, end]) => (committed.get(key) ?? 0) >= end);
  }
}
