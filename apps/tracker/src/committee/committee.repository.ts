import { Injectable } from '@nestjs/common';
import { Sql } from '../projection/sql';
import { CommitteeFilters, alertFilterSql } from './committee.query';

const secs = (from: string, to: string) => `EXTRACT(EPOCH FROM (${to} - ${from}))::float8`;
const LOCATED = `outcome IN ('localizada_con_vida', 'localizada_sin_vida')`;

interface DurationSql {
  key: string;
  /** Seconds, or NULL when the alert is left out. */
  value: string;
  /** Why it is left out: the first matching reason. */
  reasons: [reason: string, condition: string][];
}

const publication = (key: string, column: string): DurationSql => ({
  key,
  value: secs('activated_at', column),
  reasons: [['sin_publicacion', `${column} IS NULL`]],
});

/** Per-alert durations over the CTE `f` (tracker.alerts plus photo_up). */
export const ALERT_DURATION_SQL: DurationSql[] = [
  { key: 'reportedToActivated', value: secs('reported_at', 'activated_at'), reasons: [] },
  publication('activatedToFirstPublication', 'first_post_at'),
  publication('activatedToLastPublication', 'last_post_at'),
  publication('activatedToFirstPublicationX', 'first_post_x'),
  publication('activatedToLastPublicationX', 'last_post_x'),
  publication('activatedToFirstPublicationFacebook', 'first_post_facebook'),
  publication('activatedToLastPublicationFacebook', 'last_post_facebook'),
  publication('activatedToFirstPublicationWebhook', 'first_post_webhook'),
  publication('activatedToLastPublicationWebhook', 'last_post_webhook'),
  {
    key: 'activatedToLocated',
    value: `CASE WHEN ${LOCATED} THEN ${secs('activated_at', 'deactivated_at')} END`,
    reasons: [
      ['cancelada', `outcome = 'cancelada'`],
      ['abierta', 'outcome IS NULL'],
    ],
  },
  {
    key: 'reportedToLocated',
    value: `CASE WHEN ${LOCATED} THEN ${secs('reported_at', 'deactivated_at')} END`,
    reasons: [
      ['cancelada', `outcome = 'cancelada'`],
      ['abierta', 'outcome IS NULL'],
    ],
  },
  {
    key: 'locatedToLastPhotoWithdrawn',
    value: `CASE WHEN ${LOCATED} AND photo_posts > 0 AND photo_up = 0 AND last_withdrawn_at IS NOT NULL
                 THEN ${secs('deactivated_at', 'last_withdrawn_at')} END`,
    reasons: [
      ['cancelada', `outcome = 'cancelada'`],
      ['abierta', 'outcome IS NULL'],
      ['sin_foto', 'photo_posts = 0'],
      ['retiro_pendiente', 'photo_up > 0 OR last_withdrawn_at IS NULL'],
    ],
  },
  {
    key: 'deactivatedToClosed',
    value: `CASE WHEN closed_at IS NOT NULL AND deactivated_at IS NOT NULL THEN ${secs('deactivated_at', 'closed_at')} END`,
    reasons: [
      ['abierta', 'deactivated_at IS NULL'],
      ['sin_cerrar', 'closed_at IS NULL'],
    ],
  },
];

export const TASK_DURATION_SQL: DurationSql[] = [
  {
    key: 'taskAcknowledgement',
    value: secs('assigned_at', 'acknowledged_at'),
    reasons: [['sin_acuse', 'acknowledged_at IS NULL']],
  },
  {
    key: 'taskCompletion',
    value: secs('assigned_at', 'completed_at'),
    reasons: [['no_concluida', 'completed_at IS NULL']],
  },
];

const col = (key: string) => `"d_${key}"`;
const reasonCol = (key: string) => `"r_${key}"`;

function durationColumns(defs: DurationSql[]): string {
  return defs
    .map(
      (d) =>
        `${d.value} AS ${col(d.key)}, ` +
        (d.reasons.length
          ? `CASE ${d.reasons.map(([r, c]) => `WHEN ${c} THEN '${r}'`).join(' ')} END AS ${reasonCol(d.key)}`
          : `NULL::text AS ${reasonCol(d.key)}`),
    )
    .join(',\n');
}

/** Median and p90 in one sort: percentile_cont over an array of fractions. */
const pct = (expr: string) => `percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY ${expr})`;

function durationAggregates(defs: DurationSql[]): string {
  return defs
    .map((d) => {
      const c = col(d.key);
      return [
        `count(${c})::int AS "n_${d.key}"`,
        `${pct(c)} AS "pct_${d.key}"`,
        `count(*) FILTER (WHERE ${c} IS NULL)::int AS "excluded_${d.key}"`,
        ...d.reasons.map(
          ([r]) =>
            `count(*) FILTER (WHERE ${c} IS NULL AND ${reasonCol(d.key)} = '${r}')::int AS "x_${d.key}_${r}"`,
        ),
      ].join(', ');
    })
    .join(',\n');
}

/** Seconds rounded to the millisecond (null stays null). */
const ms3 = (v: number | null | undefined) =>
  v === null || v === undefined ? null : Math.round(v * 1000) / 1000;

/** [median, p90] of a percentile array column. */
export function medianP90(v: (number | null)[] | null | undefined): {
  median: number | null;
  p90: number | null;
} {
  return { median: ms3(v?.[0]), p90: ms3(v?.[1]) };
}

export interface DurationFigure {
  n: number;
  median: number | null;
  p90: number | null;
  excluded: number;
  excludedReasons: Record<string, number>;
}

function readDurations(row: Record<string, any>, defs: DurationSql[]): Record<string, DurationFigure> {
  return Object.fromEntries(
    defs.map((d) => [
      d.key,
      {
        n: row[`n_${d.key}`],
        ...medianP90(row[`pct_${d.key}`]),
        excluded: row[`excluded_${d.key}`],
        excludedReasons: Object.fromEntries(d.reasons.map(([r]) => [r, row[`x_${d.key}_${r}`]])),
      },
    ]),
  );
}

/** Posts that carried her photo (or may exist) and are not withdrawn, per alert: few rows (partial index). */
const PHOTO_UP = `(SELECT p.alert_id, count(*)::int AS n FROM tracker.publications p
   WHERE p.withdrawn_at IS NULL AND (p.may_exist_since IS NOT NULL OR (p.with_image AND p.posted_at IS NOT NULL))
   GROUP BY p.alert_id)`;

/** The alerts of the period as CTE f: with their photo posts still up, or only what joins need (light). */
function alertsCte(f: CommitteeFilters, light = false): { sql: string; params: unknown[] } {
  const { where, params } = alertFilterSql(f, 'a');
  return {
    sql: light
      ? `f AS (SELECT a.alert_id, a.activated_at, a.deactivated_at, a.outcome, a.region_id, a.municipality_code,
                      a.municipality_name, a.avgm, a.folio
                 FROM tracker.alerts a WHERE ${where})`
      : `f AS (SELECT a.*, COALESCE(up.n, 0) AS photo_up
                 FROM tracker.alerts a LEFT JOIN ${PHOTO_UP} up ON up.alert_id = a.alert_id
                WHERE ${where})`,
    params,
  };
}

export interface AlertFigureRow {
  alert_id: string;
  folio: string;
  status: string;
  outcome: string | null;
  reported_at: Date;
  activated_at: Date;
  deactivated_at: Date | null;
  closed_at: Date | null;
  closed_by: string | null;
  municipality_code: string;
  municipality_name: string;
  region_id: string | null;
  avgm: boolean;
  minor: boolean;
  activating_body: string;
  updates: number;
  escalations: number;
  max_escalation_level: number;
  photo_posts: number;
  posts_withdrawn: number;
  photo_up: number;
  tasks_total: number;
  [duration: string]: unknown;
}

export interface AreaOfAlertRow {
  alert_id: string;
  area_id: string;
  area_name: string | null;
  tasks: number;
  ack_seconds: number | null;
  completion_seconds: number | null;
  acknowledged_on_time: number;
  due: number;
  escalations: number;
}

export interface TaskRow {
  folio: string;
  alert_id: string;
  task_id: string;
  step_id: string;
  area_id: string;
  area_name: string | null;
  assigned_at: Date | null;
  ack_due_at: Date | null;
  acknowledged_at: Date | null;
  complete_due_at: Date | null;
  completed_at: Date | null;
  cancelled_at: Date | null;
  progress_reported_at: Date | null;
  escalations: number;
  max_escalation_level: number;
  ack_seconds: number | null;
  completion_seconds: number | null;
}

/** A task counts toward «on time» once its deadline passed (by `asOf`, or by its cancellation) or it was acknowledged. */
const TASK_DUE = `(t.acknowledged_at IS NOT NULL OR t.ack_due_at <= LEAST($AS_OF::timestamptz, COALESCE(t.cancelled_at, $AS_OF::timestamptz)))`;
const TASK_ON_TIME = `(t.acknowledged_at IS NOT NULL AND t.acknowledged_at <= t.ack_due_at)`;

/** SQL behind the committee's API, CSV and PDF; read-only, over the tracker's projection. */
@Injectable()
export class CommitteeRepository {
  async alerts(
    sql: Sql,
    f: CommitteeFilters,
    page?: { limit: number; offset: number },
  ): Promise<AlertFigureRow[]> {
    const cte = alertsCte(f);
    const params = [...cte.params];
    let paging = '';
    if (page) {
      params.push(page.limit, page.offset);
      paging = `LIMIT $${params.length - 1} OFFSET $${params.length}`;
    }
    return sql.query<AlertFigureRow>(
      `WITH ${cte.sql}
       SELECT alert_id, folio, status, outcome, reported_at, activated_at, deactivated_at, closed_at, closed_by,
              municipality_code, municipality_name, region_id, avgm, minor, activating_body, updates, escalations,
              max_escalation_level, photo_posts, posts_withdrawn, photo_up, tasks_total,
              ${durationColumns(ALERT_DURATION_SQL)}
         FROM f ORDER BY activated_at, alert_id ${paging}`,
      params,
    );
  }

  async countAlerts(sql: Sql, f: CommitteeFilters): Promise<number> {
    const { where, params } = alertFilterSql(f, 'a');
    const [row] = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM tracker.alerts a WHERE ${where}`,
      params,
    );
    return row.n;
  }

  async alertById(sql: Sql, alertId: string): Promise<AlertFigureRow | undefined> {
    const [row] = await sql.query<AlertFigureRow>(
      `WITH f AS (
         SELECT a.*,
                (SELECT count(*)::int FROM tracker.publications p
                  WHERE p.alert_id = a.alert_id AND p.withdrawn_at IS NULL
                    AND (p.may_exist_since IS NOT NULL OR (p.with_image AND p.posted_at IS NOT NULL))) AS photo_up
           FROM tracker.alerts a WHERE a.alert_id = $1 AND a.activated_at IS NOT NULL)
       SELECT *, ${durationColumns(ALERT_DURATION_SQL)} FROM f`,
      [alertId],
    );
    return row;
  }

  /** Per alert and area: tasks, time to acknowledge and complete (first task of the area), on time. */
  async areasOfAlerts(sql: Sql, alertIds: string[], asOf: Date): Promise<AreaOfAlertRow[]> {
    if (alertIds.length === 0) return [];
    return sql.query<AreaOfAlertRow>(
      `SELECT t.alert_id, t.area_id, min(t.area_name) AS area_name, count(*)::int AS tasks,
              round(min(${secs('t.assigned_at', 't.acknowledged_at')})::numeric, 3)::float8 AS ack_seconds,
              round(max(${secs('t.assigned_at', 't.completed_at')})::numeric, 3)::float8 AS completion_seconds,
              count(*) FILTER (WHERE ${TASK_ON_TIME})::int AS acknowledged_on_time,
              count(*) FILTER (WHERE ${TASK_DUE.replaceAll('$AS_OF', '$2')})::int AS due,
              sum(t.escalations)::int AS escalations
         FROM tracker.tasks t WHERE t.alert_id = ANY($1::uuid[])
        GROUP BY t.alert_id, t.area_id ORDER BY t.alert_id, t.area_id`,
      [alertIds, asOf],
    );
  }

  async tasks(sql: Sql, f: CommitteeFilters): Promise<TaskRow[]> {
    const cte = alertsCte(f, true);
    return sql.query<TaskRow>(
      `WITH ${cte.sql}
       SELECT f.folio, t.alert_id, t.task_id, t.step_id, t.area_id, t.area_name, t.assigned_at, t.ack_due_at,
              t.acknowledged_at, t.complete_due_at, t.completed_at, t.cancelled_at, t.progress_reported_at,
              t.escalations, t.max_escalation_level,
              round(${secs('t.assigned_at', 't.acknowledged_at')}::numeric, 3)::float8 AS ack_seconds,
              round(${secs('t.assigned_at', 't.completed_at')}::numeric, 3)::float8 AS completion_seconds
         FROM tracker.tasks t JOIN f ON f.alert_id = t.alert_id
        ORDER BY f.activated_at, f.alert_id, t.assigned_at, t.task_id`,
      cte.params,
    );
  }

  /**
   * The period's figures over its alerts. The independent reads run at once when several executors are
   * given (connections sharing one snapshot, see CommitteeService), one after the other otherwise.
   */
  async period(sqls: Sql[], f: CommitteeFilters, asOf: Date) {
    const cte = alertsCte(f);
    const light = alertsCte(f, true);
    const n = cte.params.length;
    const asOfP = `$${n + 1}`;
    const params = [...cte.params, asOf];
    const summaryQuery = (sql: Sql) =>
      sql.query<Record<string, any>>(
        `WITH ${cte.sql}, d AS (SELECT f.*, ${durationColumns(ALERT_DURATION_SQL)} FROM f)
         SELECT count(*)::int AS total,
                count(*) FILTER (WHERE outcome = 'localizada_con_vida')::int AS o_localizada_con_vida,
                count(*) FILTER (WHERE outcome = 'localizada_sin_vida')::int AS o_localizada_sin_vida,
                count(*) FILTER (WHERE outcome = 'cancelada')::int AS o_cancelada,
                count(*) FILTER (WHERE outcome IS NULL)::int AS o_open,
                count(*) FILTER (WHERE avgm)::int AS avgm_alerts,
                coalesce(sum(escalations), 0)::int AS escalations,
                count(*) FILTER (WHERE escalations > 0)::int AS alerts_with_escalations,
                coalesce(max(max_escalation_level), 0)::int AS highest_escalation_level,
                coalesce(sum(updates), 0)::int AS updates,
                count(*) FILTER (WHERE updates > 0)::int AS alerts_with_updates,
                ${[24, 72]
                  .map(
                    (h) => `
                count(*) FILTER (WHERE ${LOCATED} AND deactivated_at - activated_at <= interval '${h} hours')::int AS w${h}_located,
                count(*) FILTER (WHERE outcome IS DISTINCT FROM 'cancelada'
                                   AND (${LOCATED} OR activated_at <= ${asOfP}::timestamptz - interval '${h} hours'))::int AS w${h}_eligible,
                count(*) FILTER (WHERE outcome = 'cancelada')::int AS w${h}_cancelled,
                count(*) FILTER (WHERE outcome IS NULL AND activated_at > ${asOfP}::timestamptz - interval '${h} hours')::int AS w${h}_recent`,
                  )
                  .join(',')},
                ${durationAggregates(ALERT_DURATION_SQL)}
           FROM d`,
        params,
      );
    const placesQuery = async (sql: Sql) => ({
      byRegion: await sql.query<{ region_id: string | null; outcome: string | null; n: number }>(
        `WITH ${light.sql} SELECT region_id, outcome, count(*)::int AS n FROM f
          GROUP BY region_id, outcome ORDER BY region_id, outcome`,
        cte.params,
      ),
      byMunicipality: await sql.query<{ code: string; name: string; avgm: boolean; n: number }>(
        `WITH ${light.sql} SELECT municipality_code AS code, min(municipality_name) AS name, bool_or(avgm) AS avgm,
                count(*)::int AS n
           FROM f GROUP BY municipality_code ORDER BY n DESC, municipality_code`,
        cte.params,
      ),
    });
    // Per area and, in the same pass (the empty grouping set), over every task of the period.
    const tasksQuery = (sql: Sql) =>
      sql.query<Record<string, any>>(
        `WITH ${light.sql}, d AS (
           SELECT t.*, ${durationColumns(TASK_DURATION_SQL)} FROM tracker.tasks t JOIN f ON f.alert_id = t.alert_id)
         SELECT t.area_id, min(t.area_name) AS area_name, count(*)::int AS tasks,
                count(t.acknowledged_at)::int AS acknowledged,
                count(*) FILTER (WHERE ${TASK_DUE.replaceAll('$AS_OF', asOfP)})::int AS due,
                count(*) FILTER (WHERE ${TASK_ON_TIME})::int AS on_time,
                coalesce(sum(t.escalations), 0)::int AS escalations,
                ${durationAggregates(TASK_DURATION_SQL)}
           FROM d t GROUP BY GROUPING SETS ((t.area_id), ()) ORDER BY t.area_id NULLS FIRST`,
        params,
      );
    // Counts per account hash-aggregate over every publication; the withdrawal percentiles sort only the
    // withdrawn ones, narrow rows (one sort of wide rows spilled to disk on a year of alerts).
    const accountsQuery = (sql: Sql) =>
      sql.query<Record<string, any>>(
        `WITH ${light.sql}
         SELECT p.account_id, min(p.platform) AS platform, min(p.handle) AS handle,
                count(*) FILTER (WHERE p.posted_at IS NOT NULL OR p.failed_at IS NOT NULL)::int AS attempted,
                count(*) FILTER (WHERE p.posted_at IS NULL AND p.failed_at IS NOT NULL)::int AS failed,
                count(*) FILTER (WHERE p.with_image AND p.posted_at IS NOT NULL)::int AS photo_posts,
                count(*) FILTER (WHERE p.withdrawn_at IS NOT NULL)::int AS withdrawn,
                count(*) FILTER (WHERE f.deactivated_at IS NOT NULL AND p.withdrawn_at IS NULL
                                   AND (p.may_exist_since IS NOT NULL OR (p.with_image AND p.posted_at IS NOT NULL)))::int AS still_up,
                count(p.withdrawn_at)::int AS withdrawal_n
           FROM tracker.publications p JOIN f ON f.alert_id = p.alert_id
          GROUP BY p.account_id ORDER BY p.account_id`,
        cte.params,
      );
    const withdrawalQuery = (sql: Sql) =>
      sql.query<{ account_id: string; withdrawal_pct: number[] | null }>(
        `WITH ${light.sql}
         SELECT w.account_id, ${pct('w.s')} AS withdrawal_pct
           FROM (SELECT p.account_id, ${secs('f.deactivated_at', 'p.withdrawn_at')} AS s
                   FROM tracker.publications p JOIN f ON f.alert_id = p.alert_id
                  WHERE p.withdrawn_at IS NOT NULL) w
          GROUP BY w.account_id`,
        cte.params,
      );
    const [accounts, [summary], withdrawals, taskRows, places] = await inParallel(sqls, [
      accountsQuery,
      summaryQuery,
      withdrawalQuery,
      tasksQuery,
      placesQuery,
    ] as const);
    const withdrawal = new Map(withdrawals.map((w) => [w.account_id, w.withdrawal_pct]));
    const overall = taskRows.find((r) => r.area_id === null) ?? {};
    return {
      summary,
      alertDurations: readDurations(summary, ALERT_DURATION_SQL),
      taskDurations: readDurations(overall, TASK_DURATION_SQL),
      byRegion: places.byRegion,
      byMunicipality: places.byMunicipality,
      accounts: accounts.map((a): Record<string, any> => ({
        ...a,
        ...prefixed('withdrawal', medianP90(withdrawal.get(a.account_id))),
      })),
      areas: taskRows
        .filter((r) => r.area_id !== null)
        .map((a): Record<string, any> => ({
          ...a,
          ack_n: a.n_taskAcknowledgement,
          completion_n: a.n_taskCompletion,
          ...prefixed('ack', medianP90(a.pct_taskAcknowledgement)),
          ...prefixed('completion', medianP90(a.pct_taskCompletion)),
        })),
    };
  }
}

function prefixed(prefix: string, v: { median: number | null; p90: number | null }) {
  return { [`${prefix}_median`]: v.median, [`${prefix}_p90`]: v.p90 };
}

type Job<T> = (sql: Sql) => Promise<T>;
type Results<J extends readonly Job<unknown>[]> = { [K in keyof J]: J[K] extends Job<infer T> ? T : never };

/** Runs the jobs over the executors, each executor one job at a time (a connection runs one query at once). */
async function inParallel<J extends readonly Job<unknown>[]>(sqls: Sql[], jobs: J): Promise<Results<J>> {
  const results: unknown[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    sqls.map(async (sql) => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i](sql);
      }
    }),
  );
  return results as Results<J>;
}
