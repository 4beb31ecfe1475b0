import { Injectable } from '@nestjs/common';
import { PHOTO_STILL_UP } from '../projection/projector';
import { Sql } from '../projection/sql';

export interface ClosureFacts {
  alert_id: string;
  folio: string | null;
  status: string;
  outcome: string | null;
  deactivated_at: Date | null;
  closed_at: Date | null;
  closed_by: string | null;
  closure_overdue_at: Date | null;
  withdrawal_completed_at: Date | null;
  coordination_stood_down_at: Date | null;
  last_withdrawn_at: Date | null;
  last_task_closed_at: Date | null;
  tasks_total: number;
  tasks_closed: number;
}

export interface MissingPhotoPostRow {
  account_id: string;
  platform: string;
  handle: string;
  state: 'posted' | 'may_exist';
  since: Date;
}

export interface OpenTaskRow {
  task_id: string;
  area_id: string;
  area_name: string | null;
  state: string;
  since: Date;
}

/** The SQL behind closure: the alert's facts, what still carries her photo, which tasks are open. */
@Injectable()
export class ClosureRepository {
  readonly schema = 'tracker';

  async facts(sql: Sql, alertId: string, forUpdate = false): Promise<ClosureFacts | undefined> {
    const [row] = await sql.query<ClosureFacts>(
      `SELECT alert_id, folio, status, outcome, deactivated_at, closed_at, closed_by, closure_overdue_at,
              withdrawal_completed_at, coordination_stood_down_at, last_withdrawn_at, last_task_closed_at,
              tasks_total, tasks_closed
         FROM tracker.alerts WHERE alert_id = $1 ${forUpdate ? 'FOR UPDATE' : ''}`,
      [alertId],
    );
    return row;
  }

  /**
   * Posts that carried her photo and are not confirmed withdrawn: known to be up (`posted`), or that may
   * exist (an ambiguous send; or an account whose withdrawal dissemination reports as delayed without a
   * post the tracker knows of, until dissemination confirms the withdrawal everywhere).
   */
  async missingPhotoPosts(
    sql: Sql,
    alertId: string,
    withdrawalCompleted: boolean,
  ): Promise<MissingPhotoPostRow[]> {
    return sql.query<MissingPhotoPostRow>(
      `SELECT account_id, platform, handle, state, since FROM (
         SELECT p.account_id, p.platform, p.handle,
                CASE WHEN p.with_image AND p.posted_at IS NOT NULL THEN 'posted' ELSE 'may_exist' END AS state,
                CASE WHEN p.with_image AND p.posted_at IS NOT NULL THEN p.posted_at ELSE p.may_exist_since END AS since
           FROM tracker.publications p
          WHERE p.alert_id = $1 AND ${PHOTO_STILL_UP}
         UNION ALL
         SELECT d.account_id, d.platform, d.handle, 'may_exist', d.reported_at
           FROM tracker.withdrawal_delays d
          WHERE d.alert_id = $1 AND NOT $2::boolean
            AND NOT EXISTS (SELECT 1 FROM tracker.publications p
                             WHERE p.alert_id = d.alert_id AND p.account_id = d.account_id AND ${PHOTO_STILL_UP})
       ) m ORDER BY since, account_id`,
      [alertId, withdrawalCompleted],
    );
  }

  async openTasks(sql: Sql, alertId: string): Promise<OpenTaskRow[]> {
    return sql.query<OpenTaskRow>(
      `SELECT task_id, area_id, area_name,
              CASE WHEN progress_reported_at IS NOT NULL THEN 'in_progress'
                   WHEN acknowledged_at IS NOT NULL THEN 'acknowledged' ELSE 'assigned' END AS state,
              assigned_at AS since
         FROM tracker.tasks
        WHERE alert_id = $1 AND completed_at IS NULL AND cancelled_at IS NULL
        ORDER BY assigned_at, task_id`,
      [alertId],
    );
  }

  /** Deactivated alerts already past the overdue threshold at `at` that the tracker has neither closed nor flagged. */
  async overdueCandidates(sql: Sql, afterSeconds: number, at: Date, limit = 50): Promise<string[]> {
    const rows = await sql.query<{ alert_id: string }>(
      `SELECT a.alert_id FROM tracker.alerts a
        WHERE a.status = 'deactivated' AND a.closure_overdue_at IS NULL
          AND a.deactivated_at < $1::timestamptz - make_interval(secs => $2)
          AND NOT EXISTS (SELECT 1 FROM tracker.closure_decisions d WHERE d.alert_id = a.alert_id)
        ORDER BY a.deactivated_at LIMIT $3
        FOR UPDATE OF a SKIP LOCKED`,
      [at, afterSeconds, limit],
    );
    return rows.map((r) => r.alert_id);
  }

  /** Records a decision once; false when it was already taken. */
  async decide(sql: Sql, alertId: string, kind: 'closed' | 'overdue', eventId: string): Promise<boolean> {
    const rows = await sql.query(
      `INSERT INTO tracker.closure_decisions (alert_id, kind, event_id) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING alert_id`,
      [alertId, kind, eventId],
    );
    return rows.length === 1;
  }

  async decisions(sql: Sql, alertId: string): Promise<{ kind: string; decided_at: Date }[]> {
    return sql.query(`SELECT kind, decided_at FROM tracker.closure_decisions WHERE alert_id = $1`, [alertId]);
  }
}
