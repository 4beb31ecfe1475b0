import { notFound } from '@alerta-rosa/http';
import { Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';
import { Sql, sqlOf } from '../projection/sql';
import { CommitteeFilters, describeFilters } from './committee.query';
import { AlertFigureRow, AreaOfAlertRow, CommitteeRepository, DurationFigure } from './committee.repository';
import {
  ALERT_DURATIONS,
  ALERT_LIST_DEFINITIONS,
  ALL_DEFINITIONS,
  OUTCOME_LABELS,
} from './figure.definitions';
import { GeographyCatalog } from './geography.catalog';
import { OAXACA_TZ } from './oaxaca-time';

const PLATFORMS = [
  ['x', 'X'],
  ['facebook', 'Facebook'],
  ['webhook', 'Webhook'],
] as const;

/** Sorts for a year's percentiles fit in memory (the default 4 MB spills them to disk). */
const WORK_MEM = '32MB';
/** How long the same period's figures are served again while nothing changed. */
const FIGURES_CACHE_MS = 60_000;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 10_000) / 10_000);

export type AlertFigures = ReturnType<CommitteeService['presentAlert']>;
export type PeriodFigures = Awaited<ReturnType<CommitteeService['periodFrom']>>;

/**
 * The committee's figures (read-only): per alert, and per period with median and p90 of every duration,
 * each defined in the answer itself. Times from reporting and from activation are kept apart.
 */
@Injectable()
export class CommitteeService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: CommitteeRepository,
    private readonly geography: GeographyCatalog,
  ) {}

  /** One snapshot for everything an answer reads (events keep committing meanwhile). */
  snapshot<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      await m.query(`SET LOCAL work_mem = '${WORK_MEM}'`);
      return work(sqlOf(m));
    });
  }

  async alerts(f: CommitteeFilters) {
    return this.snapshot(async (sql) => {
      const asOf = new Date();
      const rows = await this.repo.alerts(sql, f, { limit: f.limit, offset: f.offset });
      const total = await this.repo.countAlerts(sql, f);
      const areas = await this.repo.areasOfAlerts(
        sql,
        rows.map((r) => r.alert_id),
        asOf,
      );
      return {
        period: { ...describeFilters(f), asOf: asOf.toISOString(), timeZone: OAXACA_TZ },
        total,
        limit: f.limit,
        offset: f.offset,
        items: rows.map((r) => this.presentAlert(r, areas)),
        definitions: ALERT_LIST_DEFINITIONS,
      };
    });
  }

  async alert(alertId: string) {
    return this.snapshot(async (sql) => {
      const row = await this.repo.alertById(sql, alertId);
      if (!row) throw notFound('ALERT_NOT_FOUND', 'No hay registro de esa alerta en el seguimiento.');
      const areas = await this.repo.areasOfAlerts(sql, [alertId], new Date());
      return { ...this.presentAlert(row, areas), definitions: ALERT_LIST_DEFINITIONS };
    });
  }

  presentAlert(r: AlertFigureRow, areas: AreaOfAlertRow[]) {
    const d = (key: string) => {
      const v = r[`d_${key}`] as number | null;
      return v === null || v === undefined ? null : Math.round(v * 1000) / 1000;
    };
    return {
      alertId: r.alert_id,
      folio: r.folio,
      status: r.status,
      outcome: r.outcome,
      activatingBody: r.activating_body,
      minor: r.minor,
      municipality: { code: r.municipality_code, name: r.municipality_name, avgm: r.avgm },
      region: r.region_id ? { id: r.region_id, name: this.geography.regionName(r.region_id) } : null,
      reportedAt: iso(r.reported_at),
      activatedAt: iso(r.activated_at),
      deactivatedAt: iso(r.deactivated_at),
      closedAt: iso(r.closed_at),
      closedBy: r.closed_by,
      updates: r.updates,
      escalations: { count: r.escalations, highestLevel: r.max_escalation_level },
      photoPosts: { total: r.photo_posts, withdrawn: r.posts_withdrawn, stillUp: r.photo_up },
      /** Seconds; null when the figure does not apply (see definitions). */
      durations: Object.fromEntries(ALERT_DURATIONS.map((def) => [def.key, d(def.key)])),
      publicationsByPlatform: Object.fromEntries(
        PLATFORMS.map(([p, P]) => [
          p,
          {
            activatedToFirst: d(`activatedToFirstPublication${P}`),
            activatedToLast: d(`activatedToLastPublication${P}`),
          },
        ]),
      ),
      areas: areas
        .filter((a) => a.alert_id === r.alert_id)
        .map((a) => ({
          areaId: a.area_id,
          areaName: a.area_name,
          tasks: a.tasks,
          acknowledgementSeconds: a.ack_seconds,
          completionSeconds: a.completion_seconds,
          acknowledgedOnTime: a.due === 0 ? null : a.acknowledged_on_time === a.due,
          escalations: a.escalations,
        })),
    };
  }

  private readonly cache = new Map<string, { mark: ProjectionMark; at: number; figures: PeriodFigures }>();

  /**
   * The period's figures, served again while the projection has not changed (and for at most
   * FIGURES_CACHE_MS, since «recent» alerts and tasks «due» depend on the time; the answer's `asOf` says
   * when they were computed): the console and the PDF ask for the same year again and again.
   * `fresh` (Cache-Control: no-cache) computes anyway.
   */
  async periodCached(
    key: string,
    f: CommitteeFilters,
    fresh = false,
  ): Promise<PeriodFigures & { cached: boolean }> {
    const hit = fresh ? undefined : await this.cachedFigures(sqlOfDataSource(this.dataSource), key);
    if (hit) return { ...hit, cached: true };
    const writers = await this.writersNow();
    const figures = await this.inSnapshots((sqls) => this.computeAndKeep(sqls, key, f, writers));
    return { ...figures, cached: false };
  }

  /**
   * What the PDF needs, in one snapshot: the period's figures (those the API computed if the projection has
   * not changed since, otherwise computed and kept) and the per-alert durations its charts show.
   */
  async report(key: string, f: CommitteeFilters) {
    const writers = await this.writersNow();
    return this.inSnapshots(async ([sql, ...others]) => {
      const hit = await this.cachedFigures(sql, key);
      const [figures, distributions] = await Promise.all([
        hit ?? this.computeAndKeep(others, key, f, writers),
        this.repo.distributions(sql, f, ['activatedToLocated', 'locatedToLastPhotoWithdrawn']),
      ]);
      return { figures, distributions, cached: Boolean(hit) };
    });
  }

  private async cachedFigures(sql: Sql, key: string): Promise<PeriodFigures | undefined> {
    const hit = this.cache.get(key);
    if (!hit || Date.now() - hit.at >= FIGURES_CACHE_MS) return undefined;
    return (await unchangedSince(sql, hit.mark)) ? hit.figures : undefined;
  }

  /** Computes the figures in the snapshot `sqls` share, and keeps them with the snapshot's mark. */
  private async computeAndKeep(
    sqls: Sql[],
    key: string,
    f: CommitteeFilters,
    writersBefore: Set<string>,
  ): Promise<PeriodFigures> {
    const mark = await markOf(sqls[0], writersBefore);
    const figures = await this.periodFrom(sqls, f, new Date());
    this.cache.delete(key);
    this.cache.set(key, { mark, at: Date.now(), figures });
    if (this.cache.size > 50) this.cache.delete(this.cache.keys().next().value!);
    return figures;
  }

  /** Transactions of other databases writing now (their commits never change this projection). */
  private async writersNow(): Promise<Set<string>> {
    const rows: { xid: string }[] = await this.dataSource.query(OTHER_DATABASES_WRITERS);
    return new Set(rows.map((r) => r.xid));
  }

  /**
   * Runs `work` on three connections that share one snapshot (pg_export_snapshot / SET TRANSACTION
   * SNAPSHOT), so independent reads run at once and see exactly the same projection.
   */
  private inSnapshots<T>(work: (sqls: Sql[]) => Promise<T>): Promise<T> {
    return this.snapshot(async (sql) => {
      const [{ snapshot }] = await sql.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
      const helpers: QueryRunner[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          const runner = this.dataSource.createQueryRunner();
          helpers.push(runner);
          await runner.connect();
          await runner.startTransaction('REPEATABLE READ');
          await runner.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/[^0-9A-Fa-f-]/g, '')}'`);
          await runner.query(`SET LOCAL work_mem = '${WORK_MEM}'`);
        }
        return await work([sql, ...helpers.map((r) => sqlOf(r.manager))]);
      } finally {
        for (const r of helpers) {
          if (r.isTransactionActive) await r.rollbackTransaction().catch(() => undefined);
          await r.release().catch(() => undefined);
        }
      }
    });
  }

  /** The period's figures read through `sql` (the live projection, or a rebuilt one). */
  async periodFrom(sql: Sql | Sql[], f: CommitteeFilters, asOf: Date) {
    const p = await this.repo.period(Array.isArray(sql) ? sql : [sql], f, asOf);
    const s = p.summary;
    const window = (h: 24 | 72) => ({
      located: s[`w${h}_located`] as number,
      eligible: s[`w${h}_eligible`] as number,
      share: ratio(s[`w${h}_located`], s[`w${h}_eligible`]),
      excluded: (s[`w${h}_cancelled`] as number) + (s[`w${h}_recent`] as number),
      excludedReasons: { cancelada: s[`w${h}_cancelled`] as number, reciente: s[`w${h}_recent`] as number },
    });
    const regions = new Map<
      string,
      { id: string; name: string; count: number; byOutcome: Record<string, number> }
    >();
    for (const r of this.geography.regions)
      regions.set(r.id, { id: r.id, name: r.name, count: 0, byOutcome: emptyOutcomes() });
    for (const row of p.byRegion) {
      const id = row.region_id ?? 'sin_region';
      const entry = regions.get(id) ?? { id, name: 'Sin región', count: 0, byOutcome: emptyOutcomes() };
      entry.count += row.n;
      entry.byOutcome[row.outcome ?? 'open'] += row.n;
      regions.set(id, entry);
    }
    const durations: Record<string, DurationFigure> = { ...p.alertDurations, ...p.taskDurations };
    return {
      period: { ...describeFilters(f), asOf: asOf.toISOString(), timeZone: OAXACA_TZ },
      counts: {
        total: s.total as number,
        byOutcome: {
          localizada_con_vida: s.o_localizada_con_vida as number,
          localizada_sin_vida: s.o_localizada_sin_vida as number,
          cancelada: s.o_cancelada as number,
          open: s.o_open as number,
        },
        byRegion: [...regions.values()],
        byMunicipality: p.byMunicipality.map((m) => ({
          code: m.code,
          name: m.name,
          avgm: m.avgm,
          count: m.n,
        })),
        byAvgm: { avgm: s.avgm_alerts as number, other: (s.total as number) - (s.avgm_alerts as number) },
        escalations: {
          total: s.escalations as number,
          alertsWithEscalations: s.alerts_with_escalations as number,
          highestLevel: s.highest_escalation_level as number,
        },
        updates: { total: s.updates as number, alertsWithUpdates: s.alerts_with_updates as number },
      },
      durations,
      locatedWithin24h: window(24),
      locatedWithin72h: window(72),
      accounts: p.accounts.map((a) => ({
        accountId: a.account_id as string,
        platform: a.platform as string,
        handle: a.handle as string,
        publications: a.attempted as number,
        failed: a.failed as number,
        failureRate: ratio(a.failed, a.attempted),
        photoPosts: a.photo_posts as number,
        withdrawn: a.withdrawn as number,
        stillUp: a.still_up as number,
        withdrawal: {
          n: a.withdrawal_n as number,
          median: a.withdrawal_median as number | null,
          p90: a.withdrawal_p90 as number | null,
        },
      })),
      areas: p.areas.map((a) => ({
        areaId: a.area_id as string,
        areaName: a.area_name as string | null,
        tasks: a.tasks as number,
        acknowledged: a.acknowledged as number,
        due: a.due as number,
        acknowledgedOnTime: a.on_time as number,
        shareOnTime: ratio(a.on_time, a.due),
        escalations: a.escalations as number,
        acknowledgement: {
          n: a.ack_n as number,
          median: a.ack_median as number | null,
          p90: a.ack_p90 as number | null,
        },
        completion: {
          n: a.completion_n as number,
          median: a.completion_median as number | null,
          p90: a.completion_p90 as number | null,
        },
      })),
      outcomeLabels: OUTCOME_LABELS,
      definitions: ALL_DEFINITIONS,
    };
  }
}

/**
 * Where the projection stood in a snapshot: its last timeline entry, and the transactions still running then
 * that may yet commit changes to it (rows they wrote are invisible to the snapshot, whatever their seq).
 */
interface ProjectionMark {
  maxSeq: string;
  pending: string[];
}

const OTHER_DATABASES_WRITERS = `SELECT backend_xid::text AS xid FROM pg_stat_activity
  WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()`;

/**
 * The mark of the snapshot `sql` is in. Every transaction that changes the projection records its events
 * in the inbox first, so it has its transaction id before it draws a timeline seq. Such a transaction is
 * either visible in the snapshot, or running then (in the snapshot's xip list: `pending`), or it starts
 * later and draws a seq above every visible one (the last seq changes when it commits). Running
 * transactions known to belong to other databases (before the snapshot, or still running after it) are
 * left out of `pending`; any other is kept, so a mark is never too optimistic.
 */
async function markOf(sql: Sql, othersBefore: Set<string>): Promise<ProjectionMark> {
  const [row] = await sql.query<{ max_seq: string; xip: string[]; others: string[] }>(
    `SELECT (SELECT coalesce(max(seq), 0)::text FROM tracker.timeline_entries) AS max_seq,
            ARRAY(SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) x) AS xip,
            ARRAY(${OTHER_DATABASES_WRITERS}) AS others`,
  );
  const others = new Set([...othersBefore, ...row.others]);
  return { maxSeq: row.max_seq, pending: row.xip.filter((x) => !others.has(x)) };
}

/** True when nothing reached the projection since the mark was taken: same last seq, no pending commit. */
async function unchangedSince(sql: Sql, mark: ProjectionMark): Promise<boolean> {
  const [row] = await sql.query<{ unchanged: boolean }>(
    `SELECT (SELECT coalesce(max(seq), 0)::text FROM tracker.timeline_entries) = $1
        AND NOT EXISTS (SELECT 1 FROM unnest($2::text[]) x WHERE pg_xact_status(x::xid8) = 'committed')
        AS unchanged`,
    [mark.maxSeq, mark.pending],
  );
  return row.unchanged;
}

/** The data source itself as Sql (each statement on its own, outside any snapshot). */
function sqlOfDataSource(dataSource: DataSource): Sql {
  return { query: (text, params) => dataSource.query(text, params) };
}

function emptyOutcomes(): Record<string, number> {
  return { localizada_con_vida: 0, localizada_sin_vida: 0, cancelada: 0, open: 0 };
}
