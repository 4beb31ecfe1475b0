import {
  ALERT_EVENT_TYPES,
  AlertActivated,
  AlertClosed,
  AlertClosureOverdue,
  AlertClosureOverridden,
  AlertDeactivated,
  AlertEventReceived,
  AlertUpdated,
  AlertWithdrawalCompleted,
  Envelope,
  PUBLICATION_EVENT_TYPES,
  PublicFicha,
  PublicationFailed,
  PublicationSucceeded,
  PublicationWithdrawn,
  RECEIPT_EVENT_TYPE,
  TASK_EVENT_TYPES,
  TRACKING_EVENT_TYPES,
  TaskAcknowledged,
  TaskAssigned,
  TaskCancelled,
  TaskCompleted,
  TaskEscalated,
  TaskProgressReported,
  WithdrawalDelayed,
} from '@alerta-rosa/contracts';
import { GeographyCatalog } from '../committee/geography.catalog';
import { Sql, qualified } from './sql';
import { describeEvent } from './timeline-details';

/** Consumer (group) names whose receipts the tracker relies on. */
export const COORDINATION_CONSUMER = 'alerta-rosa.coordination';

type Merge = 'first' | 'min' | 'max' | 'sum' | 'byFicha' | 'closedBy' | 'key';
type Column = [name: string, pgType: string, merge: Merge];

/**
 * The projection's tables and how each column merges a new fact with the stored one. Every merge is
 * commutative (first non-null of a single-source fact, earliest, latest, sum of new events, value of the
 * highest ficha version), so the rows do not depend on how the topics interleave or how events are batched:
 * the live tracker (one event at a time) and a rebuild (thousands per statement) end with the same rows.
 */
const ALERT_COLUMNS: Column[] = [
  ['alert_id', 'uuid', 'key'],
  ['folio', 'text', 'first'],
  ['version', 'integer', 'max'],
  ['reported_at', 'timestamptz', 'first'],
  ['activated_at', 'timestamptz', 'first'],
  ['deactivated_at', 'timestamptz', 'first'],
  ['outcome', 'text', 'first'],
  ['ficha_version', 'integer', 'max'],
  ['municipality_code', 'text', 'byFicha'],
  ['municipality_name', 'text', 'byFicha'],
  ['region_id', 'text', 'byFicha'],
  ['avgm', 'boolean', 'byFicha'],
  ['minor', 'boolean', 'byFicha'],
  ['activating_body', 'text', 'byFicha'],
  ['photo_consent', 'boolean', 'byFicha'],
  ['updates', 'integer', 'sum'],
  ['first_post_at', 'timestamptz', 'min'],
  ['last_post_at', 'timestamptz', 'max'],
  ['first_post_x', 'timestamptz', 'min'],
  ['last_post_x', 'timestamptz', 'max'],
  ['first_post_facebook', 'timestamptz', 'min'],
  ['last_post_facebook', 'timestamptz', 'max'],
  ['first_post_webhook', 'timestamptz', 'min'],
  ['last_post_webhook', 'timestamptz', 'max'],
  ['photo_posts', 'integer', 'sum'],
  ['posts_withdrawn', 'integer', 'sum'],
  ['last_withdrawn_at', 'timestamptz', 'max'],
  ['withdrawal_requested_at', 'timestamptz', 'first'],
  ['withdrawal_completed_at', 'timestamptz', 'first'],
  ['coordination_stood_down_at', 'timestamptz', 'min'],
  ['escalations', 'integer', 'sum'],
  ['max_escalation_level', 'integer', 'max'],
  ['tasks_total', 'integer', 'sum'],
  ['tasks_closed', 'integer', 'sum'],
  ['last_task_closed_at', 'timestamptz', 'max'],
  ['closed_at', 'timestamptz', 'min'],
  ['closed_by', 'text', 'closedBy'],
  ['closure_overdue_at', 'timestamptz', 'min'],
];

const PUBLICATION_COLUMNS: Column[] = [
  ['publication_id', 'uuid', 'key'],
  ['alert_id', 'uuid', 'first'],
  ['account_id', 'text', 'first'],
  ['platform', 'text', 'first'],
  ['handle', 'text', 'first'],
  ['kind', 'text', 'first'],
  ['alert_version', 'integer', 'first'],
  ['with_image', 'boolean', 'first'],
  ['posted_at', 'timestamptz', 'min'],
  ['recovered', 'boolean', 'first'],
  ['failed_at', 'timestamptz', 'min'],
  ['failure_reason', 'text', 'first'],
  ['may_exist_since', 'timestamptz', 'min'],
  ['withdrawn_at', 'timestamptz', 'min'],
];

const TASK_COLUMNS: Column[] = [
  ['task_id', 'uuid', 'key'],
  ['alert_id', 'uuid', 'first'],
  ['step_id', 'text', 'first'],
  ['area_id', 'text', 'first'],
  ['area_name', 'text', 'first'],
  ['assigned_at', 'timestamptz', 'first'],
  ['ack_due_at', 'timestamptz', 'first'],
  ['complete_due_at', 'timestamptz', 'first'],
  ['acknowledged_at', 'timestamptz', 'min'],
  ['progress_reported_at', 'timestamptz', 'min'],
  ['completed_at', 'timestamptz', 'min'],
  ['cancelled_at', 'timestamptz', 'min'],
  ['escalations', 'integer', 'sum'],
  ['max_escalation_level', 'integer', 'max'],
];

const DELAY_COLUMNS: Column[] = [
  ['alert_id', 'uuid', 'key'],
  ['account_id', 'text', 'key'],
  ['platform', 'text', 'first'],
  ['handle', 'text', 'first'],
  ['reported_at', 'timestamptz', 'min'],
  ['attempts', 'integer', 'max'],
];

/** A publication (alias `p`) that carried her photo, or may exist, and is not withdrawn: it is still up. */
export const PHOTO_STILL_UP = `p.withdrawn_at IS NULL AND (p.may_exist_since IS NOT NULL OR (p.with_image AND p.posted_at IS NOT NULL))`;

/** The projection's tables, in the order a digest lists them. */
export const PROJECTION_TABLES = ['timeline_entries', 'alerts', 'publications', 'tasks', 'withdrawal_delays'];

type Row = Record<string, string | number | boolean | null>;

function mergeExpr(name: string, merge: Merge): string {
  const t = `t.${name}`;
  const x = `EXCLUDED.${name}`;
  switch (merge) {
    case 'first':
      return `COALESCE(${t}, ${x})`;
    case 'min':
      return `LEAST(${t}, ${x})`;
    case 'max':
      return `GREATEST(${t}, ${x})`;
    case 'sum':
      return `${t} + ${x}`;
    case 'byFicha':
      return `CASE WHEN EXCLUDED.ficha_version > t.ficha_version THEN ${x} ELSE ${t} END`;
    case 'closedBy':
      return `CASE WHEN EXCLUDED.closed_at IS NOT NULL AND (t.closed_at IS NULL OR EXCLUDED.closed_at < t.closed_at) THEN ${x} ELSE ${t} END`;
    case 'key':
      throw new Error('key columns do not merge');
  }
}

const ALERT_STATUS = (r: string, x: string) => `CASE
  WHEN LEAST(${r}.closed_at, ${x}.closed_at) IS NOT NULL THEN 'closed'
  WHEN COALESCE(${r}.deactivated_at, ${x}.deactivated_at) IS NOT NULL THEN 'deactivated'
  WHEN COALESCE(${r}.activated_at, ${x}.activated_at) IS NOT NULL THEN 'active'
  ELSE 'unknown' END`;

/** What the closure rule needs to know, after an event, to tell whether it is worth a closer look. */
const ALERT_RETURNING = `alert_id, status, closed_at IS NOT NULL AS closed,
  withdrawal_completed_at IS NOT NULL AS withdrawal_completed,
  coordination_stood_down_at IS NOT NULL AS coordination_stood_down, tasks_closed >= tasks_total AS tasks_closed`;

function upsertSql(schema: string, table: string, columns: Column[], withStatus = false): string {
  const names = columns.map(([n]) => n);
  const keys = columns.filter(([, , m]) => m === 'key').map(([n]) => n);
  const record = columns.map(([n, type]) => `${n} ${type}`).join(', ');
  const sets = columns.filter(([, , m]) => m !== 'key').map(([n, , m]) => `${n} = ${mergeExpr(n, m)}`);
  if (withStatus) sets.push(`status = ${ALERT_STATUS('t', 'EXCLUDED')}`);
  const insertCols = withStatus ? [...names, 'status'] : names;
  const selectCols = withStatus
    ? [...names.map((n) => `x.${n}`), ALERT_STATUS('x', 'x')]
    : names.map((n) => `x.${n}`);
  const returning = withStatus ? ` RETURNING ${ALERT_RETURNING}` : '';
  return `INSERT INTO ${qualified(schema, table)} AS t (${insertCols.join(', ')})
    SELECT ${selectCols.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS x(${record})
    ON CONFLICT (${keys.join(', ')}) DO UPDATE SET ${sets.join(', ')}${returning}`;
}

/** Folds several facts about one row into one (same merges as the SQL, so a batch equals one-by-one). */
function foldRow(columns: Column[], into: Row, add: Row): void {
  for (const [name, , merge] of columns) {
    const a = into[name] ?? null;
    const b = add[name] ?? null;
    if (b === null || merge === 'key') {
      if (a === null && b !== null) into[name] = b;
      continue;
    }
    if (a === null) {
      into[name] = b;
      continue;
    }
    switch (merge) {
      case 'first':
        break;
      case 'min':
        into[name] = compare(b, a) < 0 ? b : a;
        break;
      case 'max':
        into[name] = compare(b, a) > 0 ? b : a;
        break;
      case 'sum':
        into[name] = Number(a) + Number(b);
        break;
      case 'byFicha':
        if (Number(add.ficha_version ?? 0) > Number(into.ficha_version ?? 0)) into[name] = b;
        break;
      case 'closedBy':
        if (add.closed_at !== null && add.closed_at !== undefined) {
          if (
            into.closed_at === null ||
            into.closed_at === undefined ||
            compare(add.closed_at, into.closed_at) < 0
          )
            into[name] = b;
        }
        break;
    }
  }
}

function compare(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Date.parse(String(a)) - Date.parse(String(b));
}

/** byFicha columns must fold before ficha_version is raised: fold those first. */
const ALERT_FOLD_ORDER: Column[] = [
  ...ALERT_COLUMNS.filter(([, , m]) => m === 'byFicha' || m === 'closedBy'),
  ...ALERT_COLUMNS.filter(([, , m]) => m !== 'byFicha' && m !== 'closedBy'),
];

class Batch {
  readonly alerts = new Map<string, Row>();
  readonly publications = new Map<string, Row>();
  readonly tasks = new Map<string, Row>();
  readonly delays = new Map<string, Row>();

  alert(id: string, facts: Row): void {
    add(this.alerts, id, { alert_id: id, ...facts }, ALERT_FOLD_ORDER);
  }
  publication(id: string, facts: Row): void {
    add(this.publications, id, { publication_id: id, ...facts }, PUBLICATION_COLUMNS);
  }
  task(id: string, facts: Row): void {
    add(this.tasks, id, { task_id: id, ...facts }, TASK_COLUMNS);
  }
  delay(alertId: string, accountId: string, facts: Row): void {
    add(
      this.delays,
      `${alertId}/${accountId}`,
      { alert_id: alertId, account_id: accountId, ...facts },
      DELAY_COLUMNS,
    );
  }
}

function add(map: Map<string, Row>, key: string, facts: Row, columns: Column[]): void {
  const row = map.get(key);
  if (!row) map.set(key, { ...facts });
  else foldRow(columns, row, facts);
}

function rowsFor(map: Map<string, Row>, columns: Column[]): Row[] {
  // Sorted by key: concurrent transactions touch rows in the same order.
  return [...map.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, r]) =>
      Object.fromEntries(
        // Counters and levels start at 0 (NOT NULL columns); other facts not in this batch stay null.
        columns.map(([n, type, m]) => [
          n,
          r[n] ?? (type === 'integer' && (m === 'sum' || m === 'max') ? 0 : null),
        ]),
      ),
    );
}

export interface AlertAfterProjection {
  alertId: string;
  status: string;
  /** Closure conditions that need no further query (the photo posts need one). */
  closed: boolean;
  withdrawalCompleted: boolean;
  coordinationStoodDown: boolean;
  tasksClosed: boolean;
}

export interface ProjectionResult {
  /** Events that were new (not already on the timeline). */
  applied: Envelope[];
  /** Alerts whose facts changed, with their status afterwards. */
  alerts: AlertAfterProjection[];
}

/**
 * Turns events into the tracker's projection: the timeline (every event once, in the order recorded) and
 * the facts closure and the committee's figures are computed from. The same code serves the live consumer
 * (a handful of events per transaction) and tracker:rebuild (thousands per transaction), in any schema.
 */
export class Projector {
  private readonly alertsSql: string;
  private readonly publicationsSql: string;
  private readonly tasksSql: string;
  private readonly delaysSql: string;
  private readonly timelineSql: string;
  private readonly photoUpSql: string;

  constructor(
    readonly schema: string,
    private readonly geography: GeographyCatalog,
  ) {
    this.alertsSql = upsertSql(schema, 'alerts', ALERT_COLUMNS, true);
    this.publicationsSql = upsertSql(schema, 'publications', PUBLICATION_COLUMNS);
    this.tasksSql = upsertSql(schema, 'tasks', TASK_COLUMNS);
    this.delaysSql = upsertSql(schema, 'withdrawal_delays', DELAY_COLUMNS);
    // One join for the batch's alerts (a hash join while a rebuild's publications have no index yet);
    // only rows whose count changed are written.
    this.photoUpSql = `UPDATE ${qualified(schema, 'alerts')} a SET photo_up = c.n
        FROM (SELECT x.id, count(p.alert_id)::int AS n FROM unnest($1::uuid[]) AS x(id)
                LEFT JOIN ${qualified(schema, 'publications')} p ON p.alert_id = x.id AND ${PHOTO_STILL_UP}
               GROUP BY x.id) c
       WHERE a.alert_id = c.id AND a.photo_up <> c.n`;
    this.timelineSql = `INSERT INTO ${qualified(schema, 'timeline_entries')}
        (alert_id, event_id, event_type, source, alert_version, occurred_at, correlation_id, details)
      SELECT alert_id, event_id, event_type, source, alert_version, occurred_at, correlation_id, details
        FROM jsonb_to_recordset($1::jsonb) AS x(ord integer, alert_id uuid, event_id uuid, event_type text,
             source text, alert_version integer, occurred_at timestamptz, correlation_id uuid, details jsonb)
       ORDER BY ord
      ON CONFLICT (event_id) DO NOTHING RETURNING event_id`;
  }

  async apply(sql: Sql, events: Envelope[]): Promise<ProjectionResult> {
    if (events.length === 0) return { applied: [], alerts: [] };
    const entries = events.map((event, ord) => {
      const { details, version } = describeEvent(event);
      return {
        ord,
        alert_id: event.alertId,
        event_id: event.eventId,
        event_type: event.type,
        source: event.producer,
        alert_version: version,
        occurred_at: event.occurredAt,
        correlation_id: event.correlationId,
        details,
      };
    });
    const inserted = new Set(
      (await sql.query<{ event_id: string }>(this.timelineSql, [JSON.stringify(entries)])).map(
        (r) => r.event_id,
      ),
    );
    // A redelivered event (already on the timeline) changes nothing else either.
    const applied: Envelope[] = [];
    for (const e of events) {
      if (inserted.delete(e.eventId)) applied.push(e);
    }
    const batch = new Batch();
    for (const e of applied) this.fold(batch, e);
    const alerts: AlertAfterProjection[] = [];
    if (batch.alerts.size) {
      const rows = await sql.query<Record<string, any>>(this.alertsSql, [
        JSON.stringify(rowsFor(batch.alerts, ALERT_COLUMNS)),
      ]);
      for (const r of rows)
        alerts.push({
          alertId: r.alert_id,
          status: r.status,
          closed: r.closed,
          withdrawalCompleted: r.withdrawal_completed,
          coordinationStoodDown: r.coordination_stood_down,
          tasksClosed: r.tasks_closed,
        });
    }
    if (batch.publications.size) {
      const rows = rowsFor(batch.publications, PUBLICATION_COLUMNS);
      await sql.query(this.publicationsSql, [JSON.stringify(rows)]);
      const alertIds = [...new Set(rows.map((r) => r.alert_id as string))].sort();
      await sql.query(this.photoUpSql, [alertIds]);
    }
    if (batch.tasks.size)
      await sql.query(this.tasksSql, [JSON.stringify(rowsFor(batch.tasks, TASK_COLUMNS))]);
    if (batch.delays.size)
      await sql.query(this.delaysSql, [JSON.stringify(rowsFor(batch.delays, DELAY_COLUMNS))]);
    return { applied, alerts };
  }

  private ficha(version: number, f: PublicFicha): Row {
    return {
      ficha_version: version,
      municipality_code: f.municipalityCode,
      municipality_name: this.geography.municipality(f.municipalityCode)?.name ?? f.municipalityName,
      region_id: this.geography.regionIdOf(f.municipalityCode),
      avgm: this.geography.isAvgm(f.municipalityCode),
      minor: f.isMinor ?? f.age < 18,
      activating_body: f.activatingBody ?? 'SSP',
      photo_consent: f.photoConsent ?? Boolean(f.photoUrl),
    };
  }

  private fold(b: Batch, e: Envelope): void {
    const id = e.alertId;
    switch (e.type) {
      case ALERT_EVENT_TYPES.activated: {
        const p = e.payload as AlertActivated;
        b.alert(id, {
          folio: p.folio,
          version: p.version,
          reported_at: p.reportedAt,
          activated_at: p.activatedAt,
          ...this.ficha(p.version, p.ficha),
        });
        return;
      }
      case ALERT_EVENT_TYPES.updated: {
        const p = e.payload as AlertUpdated;
        b.alert(id, { folio: p.folio, version: p.version, updates: 1, ...this.ficha(p.version, p.ficha) });
        return;
      }
      case ALERT_EVENT_TYPES.deactivated: {
        const p = e.payload as AlertDeactivated;
        b.alert(id, {
          folio: p.folio,
          version: p.version,
          deactivated_at: p.deactivatedAt,
          outcome: p.outcome,
        });
        return;
      }
      case ALERT_EVENT_TYPES.closureOverridden: {
        const p = e.payload as AlertClosureOverridden;
        b.alert(id, { folio: p.folio, closed_at: p.closedAt, closed_by: 'admin' });
        return;
      }
      case RECEIPT_EVENT_TYPE: {
        const p = e.payload as AlertEventReceived;
        // Coordination took in the deactivation: the tasks it cancelled are already on tasks.v1 before this.
        if (p.consumer === COORDINATION_CONSUMER && p.receivedType === ALERT_EVENT_TYPES.deactivated)
          b.alert(id, { coordination_stood_down_at: e.occurredAt });
        return;
      }
      case PUBLICATION_EVENT_TYPES.succeeded: {
        const p = e.payload as PublicationSucceeded;
        b.publication(p.publicationId, {
          ...publicationRef(id, p),
          with_image: p.withImage,
          posted_at: p.postedAt,
          recovered: p.recovered,
        });
        const facts: Row = { photo_posts: p.withImage ? 1 : 0 };
        if (p.kind === 'activation') {
          Object.assign(facts, {
            first_post_at: p.postedAt,
            last_post_at: p.postedAt,
            [`first_post_${p.platform}`]: p.postedAt,
            [`last_post_${p.platform}`]: p.postedAt,
          });
        }
        b.alert(id, facts);
        return;
      }
      case PUBLICATION_EVENT_TYPES.failed: {
        const p = e.payload as PublicationFailed;
        b.publication(p.publicationId, {
          ...publicationRef(id, p),
          failed_at: p.failedAt,
          failure_reason: p.reason,
        });
        return;
      }
      case PUBLICATION_EVENT_TYPES.withdrawn: {
        const p = e.payload as PublicationWithdrawn;
        b.publication(p.publicationId, { ...publicationRef(id, p), withdrawn_at: p.withdrawnAt });
        // Dissemination withdraws exactly the posts that carried the photo.
        b.alert(id, { posts_withdrawn: 1, last_withdrawn_at: p.withdrawnAt });
        return;
      }
      case PUBLICATION_EVENT_TYPES.withdrawalDelayed: {
        const p = e.payload as WithdrawalDelayed;
        b.delay(id, p.accountId, {
          platform: p.platform,
          handle: p.handle,
          reported_at: p.reportedAt,
          attempts: p.attempts,
        });
        return;
      }
      case PUBLICATION_EVENT_TYPES.withdrawalCompleted: {
        const p = e.payload as AlertWithdrawalCompleted;
        b.alert(id, { withdrawal_requested_at: p.requestedAt, withdrawal_completed_at: p.completedAt });
        return;
      }
      case TASK_EVENT_TYPES.assigned: {
        const p = e.payload as TaskAssigned;
        b.task(p.taskId, {
          ...taskRef(id, p),
          area_name: p.areaName,
          assigned_at: e.occurredAt,
          ack_due_at: p.ackDueAt,
          complete_due_at: p.completeDueAt,
        });
        b.alert(id, { tasks_total: 1 });
        return;
      }
      case TASK_EVENT_TYPES.acknowledged: {
        const p = e.payload as TaskAcknowledged;
        b.task(p.taskId, { ...taskRef(id, p), acknowledged_at: p.acknowledgedAt });
        return;
      }
      case TASK_EVENT_TYPES.progressReported: {
        const p = e.payload as TaskProgressReported;
        b.task(p.taskId, { ...taskRef(id, p), progress_reported_at: p.reportedAt });
        return;
      }
      case TASK_EVENT_TYPES.completed: {
        const p = e.payload as TaskCompleted;
        b.task(p.taskId, { ...taskRef(id, p), completed_at: p.completedAt });
        b.alert(id, { tasks_closed: 1, last_task_closed_at: p.completedAt });
        return;
      }
      case TASK_EVENT_TYPES.cancelled: {
        const p = e.payload as TaskCancelled;
        b.task(p.taskId, { ...taskRef(id, p), cancelled_at: p.cancelledAt });
        b.alert(id, { tasks_closed: 1, last_task_closed_at: p.cancelledAt });
        return;
      }
      case TASK_EVENT_TYPES.escalated: {
        const p = e.payload as TaskEscalated;
        b.task(p.taskId, { ...taskRef(id, p), escalations: 1, max_escalation_level: p.level });
        b.alert(id, { escalations: 1, max_escalation_level: p.level });
        return;
      }
      case TRACKING_EVENT_TYPES.closed: {
        const p = e.payload as AlertClosed;
        b.alert(id, { folio: p.folio, closed_at: p.closedAt, closed_by: 'tracker' });
        return;
      }
      case TRACKING_EVENT_TYPES.closureOverdue: {
        const p = e.payload as AlertClosureOverdue;
        b.alert(id, { folio: p.folio, closure_overdue_at: p.flaggedAt });
        return;
      }
      default:
        return;
    }
  }
}

function publicationRef(
  alertId: string,
  p: { accountId: string; platform: string; handle: string; kind: string; alertVersion: number },
): Row {
  return {
    alert_id: alertId,
    account_id: p.accountId,
    platform: p.platform,
    handle: p.handle,
    kind: p.kind,
    alert_version: p.alertVersion,
  };
}

function taskRef(alertId: string, p: { stepId: string; areaId: string }): Row {
  return { alert_id: alertId, step_id: p.stepId, area_id: p.areaId };
}
