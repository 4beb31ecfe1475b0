import { AlertOutcome, Envelope, PublicFicha, TOPICS } from '@alerta-rosa/contracts';
import { CommitNotifier, OutboxWriter } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AccountRow } from '../accounts/account.registry';
import { RemotePost } from '../channels/channel.adapter';
import { DisseminationConfig } from '../dissemination.config';
import { PENDING_CHANNEL } from './fan-out.service';
import { PublicationRow, confirmedAbsentEvent, succeededEvent, withdrawnEvent } from './publication.events';
import { updateReturning } from './sql';

/** A publication with its account, its alert's state and the ficha of its own version. */
export interface LoadedPublication extends PublicationRow {
  account: AccountRow;
  alert_status: 'active' | 'deactivated';
  ficha: PublicFicha;
  outcome: AlertOutcome | null;
  last_error: string | null;
}

/** A withdrawal round on one account, with the alert-level request when the alert is deactivated. */
/** What AlertWithdrawalCompleted reports. */
export interface WithdrawalFigures {
  folio: string;
  outcome: string;
  accounts: number;
  posts: number;
  requestedAt: Date;
  completedAt: Date;
}

export interface WithdrawalRow {
  alert_id: string;
  account_id: string;
  status: 'pending' | 'done';
  attempts: number;
  delayed_reported_at: Date | null;
  cause_event_id: string;
  correlation_id: string;
}

type Db = Pick<EntityManager, 'query'>;
/** What a posted settle returns. */
type PostedRow = { attempts: number; retract: boolean; remote_id: string; reopened: boolean };
const LEASE = `clock_timestamp() + make_interval(secs => $3::float / 1000)`;
/** A publication with its account, alert state and the ficha of its version (append a WHERE on p). */
const LOADED = `SELECT p.*, a.platform, a.handle, to_jsonb(a) AS account, al.status AS alert_status, al.outcome,
        COALESCE(v.ficha, al.ficha) AS ficha
   FROM dissemination.publications p
   JOIN dissemination.accounts a ON a.id = p.account_id
   JOIN dissemination.alerts al ON al.alert_id = p.alert_id
   LEFT JOIN dissemination.alert_versions v ON v.alert_id = p.alert_id AND v.version = p.alert_version`;
/** Nothing of this publication may exist on the platform (the only state that may end failed/cancelled). */
const NOTHING_MAY_EXIST = `send_started_at IS NULL AND remote_id IS NULL AND other_remote_ids = '{}'`;

/**
 * The SQL of publishing: publications (claims, sends, outcomes), their withdrawal rounds. Every change
 * to a pending publication is made under the claim token of the lease its caller holds; a caller that
 * lost the lease changes nothing (except to add a remote id it learned: a post that exists is a fact).
 */
@Injectable()
export class PublicationRepository implements OnApplicationBootstrap {
  constructor(
    private readonly db: DataSource,
    private readonly notifier: CommitNotifier,
    private readonly outbox: OutboxWriter,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<DisseminationConfig>,
  ) {}

  /** In the background once started: the pool's connections opened ahead of the first alert. */
  onApplicationBootstrap(): void {
    void this.warm(this.runtime.config.DATABASE_POOL_SIZE).catch((err: Error) =>
      this.runtime.logger.warn({ err: err.message }, 'database pool warm-up failed'),
    );
  }

  /**
   * Opens `connections` pooled connections at once and runs the publishing statements' planning on each
   * (their catalogue caches filled), so that the first alert's 30 jobs find them ready.
   */
  async warm(connections: number): Promise<void> {
    const runners = Array.from({ length: connections }, () => this.db.createQueryRunner());
    try {
      await Promise.all(
        runners.map(async (r) => {
          await r.connect();
          await r.query(`${LOADED} WHERE false`);
          await r.query(`SELECT 1 FROM dissemination.withdrawals WHERE false`);
        }),
      );
    } finally {
      await Promise.all(runners.map((r) => r.release()));
    }
  }

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async load(id: string, m: Db = this.db.manager): Promise<LoadedPublication | undefined> {
    const [row] = await m.query(`${LOADED} WHERE p.id = $1`, [id]);
    return row;
  }

  // ------------------------------------------------------------------ the lease

  /**
   * Takes the lease on a pending publication and returns it as it is under that lease, in one round
   * trip; undefined (refused) while another claimant's lease is live, or once it is no longer pending.
   */
  async claim(id: string, token: string, leaseMs: number): Promise<LoadedPublication | undefined> {
    const [row] = await this.db.query(
      `WITH p AS (
         UPDATE dissemination.publications SET claim_token = $2, claim_expires_at = ${LEASE}
          WHERE id = $1 AND status = 'pending' AND (claim_token IS NULL OR claim_expires_at <= clock_timestamp())
          RETURNING *)
       ${LOADED.replace('FROM dissemination.publications p', 'FROM p')}`,
      [id, token, leaseMs],
    );
    return row;
  }

  /** Status and how long the current lease still runs (ms, 0 when free or lapsed). */
  async leaseState(id: string): Promise<{ status: string; remaining_ms: number } | undefined> {
    const [row] = await this.db.query(
      `SELECT status,
              GREATEST(0, COALESCE(EXTRACT(EPOCH FROM claim_expires_at - clock_timestamp()) * 1000, 0))::int AS remaining_ms
         FROM dissemination.publications WHERE id = $1`,
      [id],
    );
    return row;
  }

  /**
   * Renews many leases in one statement (the process's renewal round); returns the tokens still held.
   */
  async renewLeases(leases: { id: string; token: string }[], leaseMs: number): Promise<Set<string>> {
    const rows = await updateReturning<{ token: string }>(
      this.db.manager,
      `UPDATE dissemination.publications p SET claim_expires_at = clock_timestamp() + make_interval(secs => $3::float / 1000)
         FROM unnest($1::uuid[], $2::uuid[]) AS x(id, token)
        WHERE p.id = x.id AND p.claim_token = x.token AND p.status = 'pending'
        RETURNING x.token::text AS token`,
      [leases.map((l) => l.id), leases.map((l) => l.token), leaseMs],
    );
    return new Set(rows.map((r) => r.token));
  }

  async release(id: string, token: string): Promise<void> {
    await this.db.query(
      `UPDATE dissemination.publications SET claim_token = NULL, claim_expires_at = NULL
        WHERE id = $1 AND claim_token = $2`,
      [id, token],
    );
  }

  // ------------------------------------------------------------------ sending

  /**
   * Right before the create request: records that a send may post, if the caller still holds a live
   * lease and the publication is still to be posted (not withdrawn meanwhile). Returns the attempt
   * number, or null: do not send.
   */
  async startSend(id: string, token: string, leaseMs: number): Promise<number | null> {
    const rows = await updateReturning<{ attempts: number }>(
      this.db.manager,
      `UPDATE dissemination.publications p
          SET send_started_at = clock_timestamp(), send_ended_at = NULL, attempts = p.attempts + 1,
              marker_misses = 0, last_marker_miss_at = NULL, duplicate_refused = false,
              claim_expires_at = ${LEASE}
         FROM dissemination.alerts a
        WHERE p.id = $1 AND p.claim_token = $2 AND p.claim_expires_at > clock_timestamp()
          AND p.status = 'pending' AND p.send_started_at IS NULL AND p.remote_id IS NULL
          AND p.other_remote_ids = '{}' AND NOT p.retract
          AND a.alert_id = p.alert_id AND (a.status = 'active' OR p.kind = 'located_notice')
        RETURNING p.attempts`,
      [id, token, leaseMs],
    );
    return rows[0]?.attempts ?? null;
  }

  /**
   * The platform gave the new post's id. Kept whoever sends it: under the lease it is the remote id; from
   * a caller whose lease lapsed (a second post was made) it joins other_remote_ids, which the withdrawal
   * deletes too.
   */
  async recordRemoteId(id: string, token: string, remoteId: string): Promise<void> {
    await this.db.query(
      `UPDATE dissemination.publications SET
          remote_id = CASE WHEN remote_id IS NULL AND claim_token = $2 THEN $3 ELSE remote_id END,
          other_remote_ids = CASE
            WHEN (remote_id IS NULL AND claim_token = $2) OR remote_id = $3 OR $3 = ANY (other_remote_ids)
              THEN other_remote_ids
            ELSE array_append(other_remote_ids, $3) END
        WHERE id = $1`,
      [id, token, remoteId],
    );
  }

  /** The send ended without an answer (timeout, reset, 5xx): it may have posted. */
  async endSendAmbiguously(id: string, token: string, duplicateRefused = false): Promise<void> {
    await this.db.query(
      `UPDATE dissemination.publications
          SET send_ended_at = clock_timestamp(), duplicate_refused = duplicate_refused OR $3
        WHERE id = $1 AND claim_token = $2`,
      [id, token, duplicateRefused],
    );
  }

  /** This send certainly did not post (refused before creating), or its absence has been established. */
  async clearSend(id: string, token: string): Promise<boolean> {
    const rows = await updateReturning(
      this.db.manager,
      `UPDATE dissemination.publications
          SET send_started_at = NULL, send_ended_at = NULL, marker_misses = 0, last_marker_miss_at = NULL,
              duplicate_refused = false
        WHERE id = $1 AND claim_token = $2 AND remote_id IS NULL AND other_remote_ids = '{}' AND NOT duplicate_refused
        RETURNING id`,
      [id, token],
    );
    return rows.length === 1;
  }

  /** A marker look-up found nothing; returns how many have so far. */
  async recordMiss(id: string): Promise<number> {
    const [row] = await updateReturning<{ marker_misses: number }>(
      this.db.manager,
      `UPDATE dissemination.publications
          SET marker_misses = marker_misses + 1, last_marker_miss_at = clock_timestamp()
        WHERE id = $1 RETURNING marker_misses`,
      [id],
    );
    return row?.marker_misses ?? 0;
  }

  // ------------------------------------------------------------------ outcomes (in the caller's transaction)

  /**
   * Posted, in one statement that commits on its own: the publication is marked posted under the
   * caller's lease, its «succeeded» event appended to the outbox (only if it was: `appendCtes` gated on
   * the update) and, for a post that was to be withdrawn meanwhile (alert deactivated or photo changed
   * while it was being sent), the account's withdrawal round reopened. One round trip right after the
   * platform answered, so that the window in which a crash leaves a post the database does not know of
   * (the restart then finds it by its marker) stays that of one statement. The event announces the id
   * the row keeps (its first recorded one, else `remote`'s): under the lease nothing else changes it.
   * Undefined: the lease was lost and nothing was changed. `reopen` false: the caller is the account's
   * withdrawal round itself.
   */
  async settlePosted(
    pub: PublicationRow,
    token: string,
    remote: RemotePost,
    others: string[],
    recovered: boolean,
    reopen = true,
  ): Promise<PostedRow | undefined> {
    const postedAt = new Date();
    const announced = { remoteId: pub.remote_id ?? remote.remoteId, url: remote.url };
    const row = await this.settleWithEvent<PostedRow>(
      `UPDATE dissemination.publications SET
          status = 'posted',
          remote_id = COALESCE(remote_id, $3),
          remote_url = CASE WHEN remote_id IS NULL OR remote_id = $3 THEN $4 ELSE remote_url END,
          other_remote_ids = ARRAY(
            SELECT DISTINCT x FROM unnest(other_remote_ids || $5::text[] || ARRAY[$3::text]) AS x
             WHERE x <> COALESCE(remote_id, $3)),
          posted_at = $7, recovered = $6, claim_token = NULL, claim_expires_at = NULL
        WHERE id = $1 AND status = 'pending' AND claim_token = $2
        RETURNING alert_id, account_id, cause_event_id, correlation_id, with_image, retract, attempts, remote_id`,
      [pub.id, token, remote.remoteId, remote.url, others, recovered, postedAt, reopen],
      succeededEvent(pub, announced, postedAt, recovered),
      pub.account_id,
      {
        ctes: `reopened AS (
           INSERT INTO dissemination.withdrawals AS w (alert_id, account_id, cause_event_id, correlation_id)
           SELECT alert_id, account_id, cause_event_id, correlation_id FROM settled WHERE retract AND with_image AND $8
           ON CONFLICT (alert_id, account_id) DO UPDATE SET status = 'pending', completed_at = NULL, enqueued_at = NULL
           RETURNING 1)`,
        select: `s.attempts, s.retract, s.remote_id, (SELECT count(*) FROM reopened)::int > 0 AS reopened`,
      },
    );
    if (row?.reopened) this.notifier.notify(PENDING_CHANNEL);
    return row;
  }

  async markMayExist(
    m: Db,
    id: string,
    token: string,
    reason: string,
  ): Promise<{ may_exist_since: Date; attempts: number; retract: boolean } | undefined> {
    const [row] = await updateReturning<{ may_exist_since: Date; attempts: number; retract: boolean }>(
      m,
      `UPDATE dissemination.publications
          SET status = 'may_exist', may_exist_since = clock_timestamp(), last_error = $3,
              claim_token = NULL, claim_expires_at = NULL
        WHERE id = $1 AND status = 'pending' AND claim_token = $2
        RETURNING may_exist_since, attempts, retract`,
      [id, token, reason.slice(0, 500)],
    );
    return row;
  }

  /** Refused (undefined) if a send of it may have posted: such a publication is never "failed". */
  async fail(
    m: Db,
    id: string,
    token: string,
    reason: string,
    error: string,
  ): Promise<{ attempts: number } | undefined> {
    const [row] = await updateReturning<{ attempts: number }>(
      m,
      `UPDATE dissemination.publications
          SET status = 'failed', failure_reason = $3, last_error = $4, failed_at = clock_timestamp(),
              claim_token = NULL, claim_expires_at = NULL
        WHERE id = $1 AND status = 'pending' AND claim_token = $2 AND ${NOTHING_MAY_EXIST}
        RETURNING attempts`,
      [id, token, reason, error.slice(0, 500)],
    );
    return row;
  }

  /** Refused (false) if a send of it may have posted. */
  async cancel(id: string, token: string, why: string): Promise<boolean> {
    const rows = await updateReturning(
      this.db.manager,
      `UPDATE dissemination.publications
          SET status = 'cancelled', last_error = $3, claim_token = NULL, claim_expires_at = NULL
        WHERE id = $1 AND status = 'pending' AND claim_token = $2 AND ${NOTHING_MAY_EXIST}
        RETURNING id`,
      [id, token, why],
    );
    return rows.length === 1;
  }

  /** The latest earlier post of the alert on the account that stays up (updates thread under it). */
  async threadParent(
    pub: PublicationRow,
  ): Promise<{ status: 'pending' | 'posted'; remote_id: string | null } | undefined> {
    const [prev] = await this.db.query(
      `SELECT status, remote_id FROM dissemination.publications
        WHERE alert_id = $1 AND account_id = $2 AND alert_version < $3 AND kind IN ('activation', 'update')
          AND status IN ('pending', 'posted') AND NOT retract AND withdrawal_status = 'none'
        ORDER BY alert_version DESC LIMIT 1`,
      [pub.alert_id, pub.account_id, pub.alert_version],
    );
    return prev;
  }

  // ------------------------------------------------------------------ withdrawal

  /**
   * Makes sure the account's withdrawal round for the alert runs (again) now: a post to be withdrawn
   * turned out to exist after the round had completed, or its send settled while the round waited on it
   * (the dispatcher, woken on commit, promotes the round's delayed job).
   */
  async reopenWithdrawal(m: EntityManager, pub: PublicationRow): Promise<void> {
    await m.query(
      `INSERT INTO dissemination.withdrawals AS w (alert_id, account_id, cause_event_id, correlation_id)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (alert_id, account_id) DO UPDATE SET status = 'pending', completed_at = NULL, enqueued_at = NULL`,
      [pub.alert_id, pub.account_id, pub.cause_event_id, pub.correlation_id],
    );
    this.notifier.afterCommit(m, PENDING_CHANNEL);
  }

  /**
   * One account's withdrawal round as it stands, in one statement: the round (its cause: its own, the
   * alert's withdrawal request's, else its latest publication's), the account, and — while the round is
   * pending — every post to retract on it that exists or may exist (as `toRetract`), newest version first.
   */
  async round(
    alertId: string,
    accountId: string,
  ): Promise<{ w: WithdrawalRow; account: AccountRow; retract: PublicationRow[] } | undefined> {
    const rows: (PublicationRow & {
      account_row: AccountRow;
      w_status: WithdrawalRow['status'];
      w_attempts: number;
      w_delayed_reported_at: Date | null;
      w_cause_event_id: string;
      w_correlation_id: string;
    })[] = await this.db.query(
      `SELECT p.*, a.platform, a.handle, to_jsonb(a) AS account_row,
              w.status AS w_status, w.attempts AS w_attempts, w.delayed_reported_at AS w_delayed_reported_at,
              COALESCE(w.cause_event_id, aw.cause_event_id, lp.cause_event_id) AS w_cause_event_id,
              COALESCE(w.correlation_id, aw.correlation_id, lp.correlation_id) AS w_correlation_id
         FROM dissemination.withdrawals w
         JOIN dissemination.accounts a ON a.id = w.account_id
         LEFT JOIN dissemination.alert_withdrawals aw ON aw.alert_id = w.alert_id
         LEFT JOIN LATERAL (SELECT cause_event_id, correlation_id FROM dissemination.publications
                             WHERE alert_id = w.alert_id ORDER BY alert_version DESC LIMIT 1) lp ON true
         LEFT JOIN dissemination.publications p
           ON w.status = 'pending' AND p.alert_id = w.alert_id AND p.account_id = w.account_id AND p.retract
          AND p.withdrawal_status = 'none' AND p.status IN ('pending', 'posted', 'may_exist')
        WHERE w.alert_id = $1 AND w.account_id = $2
        ORDER BY p.alert_version DESC`,
      [alertId, accountId],
    );
    if (!rows.length) return undefined;
    const [first] = rows;
    const w: WithdrawalRow = {
      alert_id: alertId,
      account_id: accountId,
      status: first.w_status,
      attempts: first.w_attempts,
      delayed_reported_at: first.w_delayed_reported_at,
      cause_event_id: first.w_cause_event_id,
      correlation_id: first.w_correlation_id,
    };
    const retract = rows
      .filter((r) => r.id !== null)
      .map(
        ({
          account_row: _a,
          w_status: _s,
          w_attempts: _n,
          w_delayed_reported_at: _d,
          w_cause_event_id: _c,
          w_correlation_id: _r,
          ...pub
        }) => pub as PublicationRow,
      );
    return { w, account: first.account_row, retract };
  }

  /** What the round must take down on the account: every post to retract that exists or may exist. */
  async toRetract(alertId: string, accountId: string): Promise<PublicationRow[]> {
    return this.db.query(
      `SELECT p.*, a.platform, a.handle FROM dissemination.publications p
         JOIN dissemination.accounts a ON a.id = p.account_id
        WHERE p.alert_id = $1 AND p.account_id = $2 AND p.retract AND p.withdrawal_status = 'none'
          AND p.status IN ('pending', 'posted', 'may_exist')
        ORDER BY p.alert_version DESC`,
      [alertId, accountId],
    );
  }

  /**
   * Taken down, in one statement that commits on its own: the publication marked withdrawn and its
   * event appended — only if every id recorded for it is among those just deleted (`deleted`: its
   * recorded ids, or those found by its marker). An id recorded meanwhile (a late sender's answer)
   * leaves the row as it was (false): the round runs again and deletes that one too. The event names the
   * id the row keeps (its recorded one, else the first deleted).
   */
  async settleWithdrawn(pub: PublicationRow, deleted: string[]): Promise<boolean> {
    const at = new Date();
    const settled = await this.settleWithEvent(
      `UPDATE dissemination.publications
          SET withdrawal_status = 'withdrawn', withdrawn_at = $2, remote_id = COALESCE(remote_id, ($3::text[])[1])
        WHERE id = $1 AND withdrawal_status = 'none'
          AND (remote_id IS NULL OR remote_id = ANY ($3::text[])) AND other_remote_ids <@ $3::text[]
        RETURNING 1`,
      [pub.id, at, deleted],
      withdrawnEvent(pub, pub.remote_id ?? deleted[0], at),
      pub.account_id,
    );
    return !!settled;
  }

  /** A post that may have existed was looked for enough, after the platform's lag: not there. */
  async settleAbsent(pub: PublicationRow, lookups: number): Promise<boolean> {
    const at = new Date();
    const settled = await this.settleWithEvent(
      `UPDATE dissemination.publications SET withdrawal_status = 'absent', withdrawn_at = $2
        WHERE id = $1 AND withdrawal_status = 'none' AND status = 'may_exist' AND remote_id IS NULL
          AND other_remote_ids = '{}' RETURNING 1`,
      [pub.id, at],
      confirmedAbsentEvent(pub, lookups, at),
      pub.account_id,
    );
    return !!settled;
  }

  /**
   * `settle` (an UPDATE … RETURNING a row when it changed one, named `settled`; then `more.ctes`) and,
   * gated on it, `event` in the outbox: one statement, which commits on its own; the relay is woken
   * after it. Undefined when `settle` changed nothing (no event is written either).
   */
  private async settleWithEvent<T = { settled: number }>(
    settle: string,
    params: unknown[],
    event: Envelope,
    lane: string,
    more: { ctes?: string; select?: string } = {},
  ): Promise<T | undefined> {
    const outbox = this.outbox.appendCtes(TOPICS.publications, [event], {
      lane,
      gate: 'settled',
      firstParam: params.length + 1,
    });
    const [row] = await this.db.query(
      `WITH settled AS (${settle}), ${more.ctes ? `${more.ctes}, ` : ''}${outbox.sql}
       SELECT ${more.select ?? '1 AS settled'}, (SELECT count(*) FROM ${outbox.written})::int AS written
         FROM settled s`,
      [...params, ...outbox.params],
    );
    if (!row) return undefined;
    this.outbox.committed();
    return row as T;
  }

  /** Closes the account's round unless something to retract is still up or unsettled. */
  async completeAccountRound(alertId: string, accountId: string): Promise<boolean> {
    const rows = await updateReturning(
      this.db.manager,
      `UPDATE dissemination.withdrawals w SET status = 'done', completed_at = clock_timestamp()
        WHERE w.alert_id = $1 AND w.account_id = $2 AND w.status = 'pending'
          AND NOT EXISTS (SELECT 1 FROM dissemination.publications p
                           WHERE p.alert_id = w.alert_id AND p.account_id = w.account_id AND p.retract
                             AND p.withdrawal_status = 'none' AND p.status IN ('pending', 'posted', 'may_exist'))
        RETURNING w.account_id`,
      [alertId, accountId],
    );
    // Committed: the dispatcher is woken, the account's «LOCALIZADA» notice waited for this round.
    if (rows.length === 1) this.notifier.notify(PENDING_CHANNEL);
    return rows.length === 1;
  }

  /**
   * The deactivated alert's withdrawal is complete when no account's round is pending: records it once,
   * with its AlertWithdrawalCompleted event (`eventOf` the figures), and returns the figures; undefined
   * when it is not due or was recorded already. Checked after the round's commit: of the last rounds,
   * the one committing last sees every round done. Two statements, no transaction: the figures (no row
   * unless due), then one statement that marks it complete only if it still is due and not recorded,
   * and appends the event gated on that. Of several last rounds checking together, the row lock lets
   * one mark it (held only while that statement runs, not across round trips of a busy process); the
   * others' updates then find it recorded and write nothing.
   */
  async completeAlertWithdrawal(
    alertId: string,
    eventOf: (figures: WithdrawalFigures) => Envelope,
  ): Promise<WithdrawalFigures | undefined> {
    const [due] = await this.db.query(
      `SELECT aw.outcome, aw.requested_at, al.folio,
              (SELECT count(*) FROM dissemination.withdrawals WHERE alert_id = aw.alert_id)::int AS accounts,
              (SELECT count(*) FROM dissemination.publications
                WHERE alert_id = aw.alert_id AND withdrawal_status = 'withdrawn')::int AS posts
         FROM dissemination.alert_withdrawals aw
         JOIN dissemination.alerts al ON al.alert_id = aw.alert_id
        WHERE aw.alert_id = $1 AND aw.completed_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM dissemination.withdrawals WHERE alert_id = $1 AND status = 'pending')`,
      [alertId],
    );
    if (!due) return undefined;
    const figures: WithdrawalFigures = {
      folio: due.folio,
      outcome: due.outcome,
      accounts: due.accounts,
      posts: due.posts,
      requestedAt: new Date(due.requested_at),
      completedAt: new Date(),
    };
    // The alert's own event (no lane): it waits for every account's events in flight, so it leaves after them.
    const outbox = this.outbox.appendCtes(TOPICS.publications, [eventOf(figures)], {
      gate: 'settled',
      firstParam: 3,
    });
    const [row] = await this.db.query(
      `WITH settled AS (
         UPDATE dissemination.alert_withdrawals SET completed_at = $2
          WHERE alert_id = $1 AND completed_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM dissemination.withdrawals WHERE alert_id = $1 AND status = 'pending')
          RETURNING 1), ${outbox.sql}
       SELECT (SELECT count(*) FROM ${outbox.written})::int AS written FROM settled`,
      [alertId, figures.completedAt, ...outbox.params],
    );
    if (!row) return undefined;
    this.outbox.committed();
    return figures;
  }

  /** Counts a failed attempt; returns the count when it is the one that must be reported (once). */
  async recordWithdrawalFailure(
    m: EntityManager,
    alertId: string,
    accountId: string,
    error: string,
    reportAfter: number,
  ): Promise<number | undefined> {
    const [r] = await updateReturning<{ attempts: number; delayed_reported_at: Date | null }>(
      m,
      `UPDATE dissemination.withdrawals SET attempts = attempts + 1, last_error = $3
        WHERE alert_id = $1 AND account_id = $2 RETURNING attempts, delayed_reported_at`,
      [alertId, accountId, error],
    );
    // The first failure frees the account's «LOCALIZADA» notice, which waited for the round: wake the
    // dispatcher on commit.
    if (r?.attempts === 1) this.notifier.afterCommit(m, PENDING_CHANNEL);
    if (!r || r.delayed_reported_at || r.attempts < reportAfter) return undefined;
    await m.query(
      `UPDATE dissemination.withdrawals SET delayed_reported_at = clock_timestamp() WHERE alert_id = $1 AND account_id = $2`,
      [alertId, accountId],
    );
    return r.attempts;
  }

  async folio(m: Db, alertId: string): Promise<string> {
    const [{ folio }] = await m.query(`SELECT folio FROM dissemination.alerts WHERE alert_id = $1`, [
      alertId,
    ]);
    return folio;
  }
}
