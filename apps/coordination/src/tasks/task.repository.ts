import { Envelope, TOPICS, createEnvelope } from '@alerta-rosa/contracts';
import { OutboxWriter } from '@alerta-rosa/messaging';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { PlannedLevel } from './escalation.rule';
import { rows } from './sql';
import { AlertRow, OPEN_STATES, TaskRow } from './task.types';

/** A task that is still unacknowledged past its acknowledgement deadline, with what already fired. */
export interface UnacknowledgedTask {
  id: string;
  alert_id: string;
  escalation_plan: PlannedLevel[];
  /** level → escalated_at of the levels already fired */
  fired: Record<string, string>;
}

/**
 * The SQL of tasks, their alert projection and escalations, and the tasks.v1 events they emit
 * (through the outbox, in the caller's transaction).
 */
@Injectable()
export class TaskRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The database's clock, read inside the transaction (deadlines are compared with it). */
  async now(m: EntityManager): Promise<Date> {
    const [r] = await rows<{ now: Date }>(m, `SELECT clock_timestamp() AS now`);
    return new Date(r.now);
  }

  /** The task and its alert, the task's row locked until the transaction ends. */
  async lockTaskWithAlert(m: EntityManager, taskId: string): Promise<(TaskRow & { alert: AlertRow }) | null> {
    const [task] = await rows<TaskRow & { alert: AlertRow }>(
      m,
      `SELECT t.*, row_to_json(a) AS alert FROM coordination.tasks t JOIN coordination.alerts a USING (alert_id)
       WHERE t.id = $1 FOR UPDATE OF t`,
      [taskId],
    );
    return task ?? null;
  }

  /** level → when it was recorded, for the levels of the task that already fired. */
  async firedLevels(m: EntityManager, taskId: string): Promise<Map<number, Date>> {
    const fired = await rows<{ level: number; escalated_at: Date }>(
      m,
      `SELECT level, escalated_at FROM coordination.escalations WHERE task_id = $1`,
      [taskId],
    );
    return new Map(fired.map((f) => [f.level, new Date(f.escalated_at)]));
  }

  /** Records a level as fired; null when it already was (the primary key is the once-only guard). */
  async insertEscalation(
    m: EntityManager,
    e: { taskId: string; level: number; target: string; recipients: string[]; dueAt: string; firedAt: Date },
  ): Promise<Date | null> {
    const inserted = await rows<{ escalated_at: Date }>(
      m,
      `INSERT INTO coordination.escalations (task_id, level, target, recipients, due_at, fired_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (task_id, level) DO NOTHING RETURNING escalated_at`,
      [e.taskId, e.level, e.target, e.recipients, e.dueAt, e.firedAt],
    );
    return inserted.length ? new Date(inserted[0].escalated_at) : null;
  }

  /**
   * Tasks of active alerts still unacknowledged `graceMs` after their acknowledgement deadline whose
   * chain has not fully fired (every level is due at or after that deadline), earliest first.
   */
  unacknowledgedPastDeadline(graceMs: number, limit = 500): Promise<UnacknowledgedTask[]> {
    return this.dataSource.query(
      `SELECT t.id, t.alert_id, t.escalation_plan,
              COALESCE(jsonb_object_agg(e.level, e.escalated_at) FILTER (WHERE e.level IS NOT NULL), '{}') AS fired
       FROM coordination.tasks t
       JOIN coordination.alerts a USING (alert_id)
       LEFT JOIN coordination.escalations e ON e.task_id = t.id
       WHERE t.state = 'assigned' AND a.status = 'active'
         AND t.ack_due_at <= clock_timestamp() - make_interval(secs => $1::float / 1000)
       GROUP BY t.id
       HAVING count(e.level) < jsonb_array_length(t.escalation_plan)
       ORDER BY t.ack_due_at
       LIMIT $2`,
      [graceMs, limit],
    );
  }

  async lockAlert(m: EntityManager, alertId: string): Promise<AlertRow | null> {
    const [alert] = await rows<AlertRow>(
      m,
      `SELECT * FROM coordination.alerts WHERE alert_id = $1 FOR UPDATE`,
      [alertId],
    );
    return alert ?? null;
  }

  async alert(m: EntityManager, alertId: string): Promise<AlertRow> {
    const [a] = await rows<AlertRow>(m, `SELECT * FROM coordination.alerts WHERE alert_id = $1`, [alertId]);
    return a;
  }

  openTasks(m: EntityManager, alertId: string): Promise<TaskRow[]> {
    return rows<TaskRow>(
      m,
      `SELECT * FROM coordination.tasks WHERE alert_id = $1 AND state = ANY($2) ORDER BY step_order`,
      [alertId, OPEN_STATES],
    );
  }

  /** Reminder `seq` is done: the next one is to be handed to the queue. */
  async advanceProgress(m: EntityManager, alertId: string, nextSeq: number): Promise<void> {
    await m.query(
      `UPDATE coordination.alerts SET progress_seq = $2, progress_enqueued = false, updated_at = clock_timestamp() WHERE alert_id = $1`,
      [alertId, nextSeq],
    );
  }

  /** Active alerts whose next progress reminder was handed to BullMQ. */
  progressHandedOver(limit = 1_000): Promise<{ alert_id: string; progress_seq: number }[]> {
    return this.dataSource.query(
      `SELECT alert_id, progress_seq FROM coordination.alerts WHERE status = 'active' AND progress_enqueued
       ORDER BY activated_at LIMIT $1`,
      [limit],
    );
  }

  /** The reminder's job is gone: hand it over again, unless the reminder moved on meanwhile. */
  async handProgressOverAgain(m: EntityManager, alertId: string, seq: number): Promise<boolean> {
    const updated = await rows(
      m,
      `UPDATE coordination.alerts SET progress_enqueued = false
       WHERE alert_id = $1 AND status = 'active' AND progress_seq = $2 AND progress_enqueued RETURNING alert_id`,
      [alertId, seq],
    );
    return updated.length === 1;
  }

  async folioOf(m: EntityManager, alertId: string): Promise<string> {
    const [a] = await rows<{ folio: string }>(
      m,
      `SELECT folio FROM coordination.alerts WHERE alert_id = $1`,
      [alertId],
    );
    return a?.folio ?? '';
  }

  /** A tasks.v1 event about a task (its reference fields filled in), written to the outbox. */
  async appendTaskEvent<P>(
    m: EntityManager,
    task: TaskRow,
    type: string,
    extra: Omit<P, 'taskId' | 'folio' | 'stepId' | 'areaId'>,
    knownFolio?: string,
  ): Promise<void> {
    const folio = knownFolio ?? (await this.folioOf(m, task.alert_id));
    await this.appendEvents(m, [
      createEnvelope<P, string>({
        type,
        alertId: task.alert_id,
        producer: 'coordination',
        payload: { ...taskRef(task, folio), ...extra } as P,
      }),
    ]);
  }

  async appendEvents(m: EntityManager, events: Envelope[]): Promise<void> {
    if (events.length) await this.outbox.append(m, TOPICS.tasks, events);
  }
}

export function taskRef(t: TaskRow, folio: string) {
  return { taskId: t.id, folio, stepId: t.step_id, areaId: t.area_id };
}
