import { Injectable } from '@nestjs/common';
import { PHOTO_STILL_UP } from '../projection/projector';
import { Sql } from '../projection/sql';
import { CommitteeFilters, alertFilterSql } from './committee.query';

const secs = (from: string, to: string) => `EXTRACT(EPOCH FROM (${to} - ${from}))::float8`;

interface DurationSql {
  key: string;
  /** Column holding the duration in seconds, NULL when the alert (task) is left out (see the migration). */
  column: string;
  /** Why it is left out: the first matching reason. */
  reasons: [reason: string, condition: string][];
}

const NOT_LOCATED: [string, string][] = [
  ['cancelada', `outcome = 'cancelada'`],
  ['abierta', 'outcome IS NULL'],
];
/**
 * Per-alert durations: columns of tracker.alerts (migration 1764700000300, kept by PostgreSQL as the
 * projection changes the row).
 */
export const ALERT_DURATION_SQL: DurationSql[] = [
  { key: 'reportedToActivated', column: 'd_reported_to_activated', reasons: [] },
  ...['', '_x', '_facebook', '_webhook'].flatMap((p) =>
    ['first', 'last'].map((edge) => ({
      key: camel(`activated_to_${edge}_publication${p}`),
      column: `d_activated_to_${edge}_publication${p}`,
      reasons: [['sin_publicacion', `${edge}_post${p === '' ? '_at' : p} IS NULL`]] as [string, string][],
    })),
  ),
  { key: 'activatedToLocated', column: 'd_activated_to_located', reasons: NOT_LOCATED },
  { key: 'reportedToLocated', column: 'd_reported_to_located', reasons: NOT_LOCATED },
  {
    key: 'locatedToLastPhotoWithdrawn',
    column: 'd_located_to_last_photo_withdrawn',
    reasons: [
      ...NOT_LOCATED,
      ['sin_foto', 'photo_posts = 0'],
      ['retiro_pendiente', 'photo_up > 0 OR last_withdrawn_at IS NULL'],
    ],
  },
  {
    key: 'deactivatedToClosed',
    column: 'd_deactivated_to_closed',
    reasons: [
      ['abierta', 'deactivated_at IS NULL'],
      ['sin_cerrar', 'closed_at IS NULL'],
    ],
  },
];

/** Per-task durations: columns of tracker.tasks (same migration). */
export const TASK_DURATION_SQL: DurationSql[] = [
  {
    key: 'taskAcknowledgement',
    column: 'd_acknowledgement',
    reasons: [['sin_acuse', 'acknowledged_at IS NULL']],
  },
  { key: 'taskCompletion', column: 'd_completion', reasons: [['no_concluida', 'completed_at IS NULL']] },
];

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The duration columns under the names the API, CSV and PDF read (`d_<key>`). */
function durationColumns(defs: DurationSql[], alias: string): string {
  return defs.map((d) => `${alias}.${d.column} AS "d_${d.key}"`).join(', ');
}

/** Median and p90 in one sort: percentile_cont over an array of fractions. */
const pct = (expr: string) => `percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY ${expr})`;

/** Why a duration leaves the row out (the first matching reason), or NULL. */
function reasonOf(d: DurationSql): string {
  return `CASE ${d.reasons.map(([r, c]) => `WHEN ${c} THEN '${r}'`).join(' ')} END`;
}

/** n, [median, p90], how many are left out and why; column names unqualified (one table has them). */
function durationAggregates(defs: DurationSql[]): string {
  return defs
    .map((d) =>
      [
        `count(${d.column})::int AS "n_${d.key}"`,
        `${pct(d.column)} AS "pct_${d.key}"`,
        `count(*) FILTER (WHERE ${d.column} IS NULL)::int AS "excluded_${d.key}"`,
        ...d.reasons.map(
          ([r]) =>
            `count(*) FILTER (WHERE ${d.column} IS NULL AND ${reasonOf(d)} = '${r}')::int AS "x_${d.key}_${r}"`,
        ),
      ].join(', '),
    )
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

const LOCATED = `outcome IN ('localizada_con_vida', 'localizada_sin_vida')`;

/** The alerts of the period: a WHERE over tracker.alerts `a`, and the ids as a subquery (for joins). */
function periodAlerts(f: CommitteeFilters) {
  const { where, params } = alertFilterSql(f, 'a');
  return { where, params, ids: `(SELECT a.alert_id FROM tracker.alerts a WHERE ${where})` };
}

const ALERT_ROW = `a.alert_id, a.folio, a.status, a.outcome, a.reported_at, a.activated_at, a.deactivated_at, a.closed_at,
  a.closed_by, a.municipality_code, a.municipality_name, a.region_id, a.avgm, a.minor, a.activating_body, a.updates,
  a.escalations, a.max_escalation_level, a.photo_posts, a.posts_withdrawn, a.photo_up, a.tasks_total,
  ${durationColumns(ALERT_DURATION_SQL, 'a')}`;

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
    const { where, params } = periodAlerts(f);
    let paging = '';
    if (page) {
      params.push(page.limit, page.offset);
      paging = `LIMIT $${params.length - 1} OFFSET $${params.length}`;
    }
    return sql.query<AlertFigureRow>(
      `SELECT ${ALERT_ROW} FROM tracker.alerts a WHERE ${where} ORDER BY a.activated_at, a.alert_id ${paging}`,
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
      `SELECT ${ALERT_ROW} FROM tracker.alerts a WHERE a.alert_id = $1 AND a.activated_at IS NOT NULL`,
      [alertId],
    );
    return row;
  }

  /** Per alert and area: tasks, time to acknowledge and complete (first task of the area), on time. */
  async areasOfAlerts(sql: Sql, alertIds: string[], asOf: Date): Promise<AreaOfAlertRow[]> {
    if (alertIds.length === 0) return [];
    return sql.query<AreaOfAlertRow>(
      `SELECT t.alert_id, t.area_id, min(t.area_name) AS area_name, count(*)::int AS tasks,
              round(min(t.d_acknowledgement)::numeric, 3)::float8 AS ack_seconds,
              round(max(t.d_completion)::numeric, 3)::float8 AS completion_seconds,
              count(*) FILTER (WHERE ${TASK_ON_TIME})::int AS acknowledged_on_time,
              count(*) FILTER (WHERE ${TASK_DUE.replaceAll('$AS_OF', '$2')})::int AS due,
              sum(t.escalations)::int AS escalations
         FROM tracker.tasks t WHERE t.alert_id = ANY($1::uuid[])
        GROUP BY t.alert_id, t.area_id ORDER BY t.alert_id, t.area_id`,
      [alertIds, asOf],
    );
  }

  async tasks(sql: Sql, f: CommitteeFilters): Promise<TaskRow[]> {
    const { where, params } = periodAlerts(f);
    return sql.query<TaskRow>(
      `SELECT a.folio, t.alert_id, t.task_id, t.step_id, t.area_id, t.area_name, t.assigned_at, t.ack_due_at,
              t.acknowledged_at, t.complete_due_at, t.completed_at, t.cancelled_at, t.progress_reported_at,
              t.escalations, t.max_escalation_level,
              round(t.d_acknowledgement::numeric, 3)::float8 AS ack_seconds,
              round(t.d_completion::numeric, 3)::float8 AS completion_seconds
         FROM tracker.tasks t JOIN tracker.alerts a ON a.alert_id = t.alert_id
        WHERE ${where}
        ORDER BY a.activated_at, a.alert_id, t.assigned_at, t.task_id`,
      params,
    );
  }

  /** The non-null values of some per-alert durations over the period's alerts (seconds, any order). */
  async distributions<K extends string>(
    sql: Sql,
    f: CommitteeFilters,
    keys: K[],
  ): Promise<Record<K, number[]>> {
    const defs = keys.map((k) => ALERT_DURATION_SQL.find((d) => d.key === k)!);
    const { where, params } = periodAlerts(f);
    const [row] = await sql.query<Record<K, number[] | null>>(
      `SELECT ${defs.map((d) => `array_agg(${d.column}) FILTER (WHERE ${d.column} IS NOT NULL) AS "${d.key}"`).join(', ')}
         FROM tracker.alerts a WHERE ${where}`,
      params,
    );
    return Object.fromEntries(keys.map((k) => [k, row[k] ?? []])) as Record<K, number[]>;
  }

  /**
   * The period's figures over its alerts. The independent reads run at once when several executors are
   * given (connections sharing one snapshot, see CommitteeService), one after the other otherwise.
   */
  async period(sqls: Sql[], f: CommitteeFilters, asOf: Date) {
    const { where, params: filterParams, ids } = periodAlerts(f);
    const asOfP = `$${filterParams.length + 1}`;
    const params = [...filterParams, asOf];
    // Over the alerts' rows alone: every duration is a column (no join, no per-row arithmetic).
    const summaryQuery = (sql: Sql) =>
      sql.query<Record<string, any>>(
        `SELECT count(*)::int AS total,
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
           FROM tracker.alerts a WHERE ${where}`,
        params,
      );
    const placesQuery = async (sql: Sql) => ({
      byRegion: await sql.query<{ region_id: string | null; outcome: string | null; n: number }>(
        `SELECT region_id, outcome, count(*)::int AS n FROM tracker.alerts a WHERE ${where}
          GROUP BY region_id, outcome ORDER BY region_id, outcome`,
        filterParams,
      ),
      byMunicipality: await sql.query<{ code: string; name: string; avgm: boolean; n: number }>(
        `SELECT municipality_code AS code, min(municipality_name) AS name, bool_or(avgm) AS avgm,
                count(*)::int AS n
           FROM tracker.alerts a WHERE ${where} GROUP BY municipality_code ORDER BY n DESC, municipality_code`,
        filterParams,
      ),
    });
    // Per area and, in the same pass (the empty grouping set), over every task of the period.
    // Grouped in the C collation (a byte-wise sort, several times cheaper than the language's), presented
    // in the database's.
    const tasksQuery = (sql: Sql) =>
      sql.query<Record<string, any>>(
        `SELECT * FROM (
         SELECT t.area_id COLLATE "C" AS area_id, min(t.area_name) AS area_name, count(*)::int AS tasks,
                count(t.acknowledged_at)::int AS acknowledged,
                count(*) FILTER (WHERE ${TASK_DUE.replaceAll('$AS_OF', asOfP)})::int AS due,
                count(*) FILTER (WHERE ${TASK_ON_TIME})::int AS on_time,
                coalesce(sum(t.escalations), 0)::int AS escalations,
                ${durationAggregates(TASK_DURATION_SQL)}
           FROM tracker.tasks t WHERE t.alert_id IN ${ids}
          GROUP BY GROUPING SETS ((1), ())) g ORDER BY area_id COLLATE "default" NULLS FIRST`,
        params,
      );
    // Counts per account hash-aggregate over every publication; the withdrawal percentiles sort only the
    // withdrawn ones, narrow rows (one sort of wide rows spilled to disk on a year of alerts).
    const accountsQuery = (sql: Sql) =>
      sql.query<Record<string, any>>(
        `SELECT p.account_id, min(p.platform) AS platform, min(p.handle) AS handle,
                count(*) FILTER (WHERE p.posted_at IS NOT NULL OR p.failed_at IS NOT NULL)::int AS attempted,
                count(*) FILTER (WHERE p.posted_at IS NULL AND p.failed_at IS NOT NULL)::int AS failed,
                count(*) FILTER (WHERE p.with_image AND p.posted_at IS NOT NULL)::int AS photo_posts,
                count(*) FILTER (WHERE p.withdrawn_at IS NOT NULL)::int AS withdrawn,
                count(*) FILTER (WHERE a.deactivated_at IS NOT NULL AND ${PHOTO_STILL_UP})::int AS still_up,
                count(p.withdrawn_at)::int AS withdrawal_n
           FROM tracker.publications p JOIN tracker.alerts a ON a.alert_id = p.alert_id
          WHERE ${where}
          GROUP BY p.account_id ORDER BY p.account_id`,
        filterParams,
      );
    const withdrawalQuery = (sql: Sql) =>
      sql.query<{ account_id: string; withdrawal_pct: number[] | null }>(
        `SELECT w.account_id, ${pct('w.s')} AS withdrawal_pct
           FROM (SELECT p.account_id COLLATE "C" AS account_id, ${secs('a.deactivated_at', 'p.withdrawn_at')} AS s
                   FROM tracker.publications p JOIN tracker.alerts a ON a.alert_id = p.alert_id
                  WHERE p.withdrawn_at IS NOT NULL AND ${where}) w
          GROUP BY w.account_id`,
        filterParams,
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
