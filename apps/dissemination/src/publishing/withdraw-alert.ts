import { PUBLICATION_EVENT_TYPES, Platform, TOPICS, createEnvelope } from '@alerta-rosa/contracts';
import { OutboxWriter } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AccountRegistry, AccountRow } from '../accounts/account.registry';
import { ChannelAccount, ChannelAdapter } from '../channels/channel.adapter';
import { ChannelError, RateLimitedError, TransientError, describeError } from '../channels/channel.errors';
import { DisseminationConfig } from '../dissemination.config';
import {
  MarkerSearchPolicy,
  absenceEstablished,
  markerSearchPolicy,
  nextLookupAt,
  waitAfterMiss,
} from './marker-search';
import { CHANNEL_ADAPTERS, RateLimitSignal, RunAgain, lookupOf, rateLimitWait } from './post-publication';
import { PublicationLease } from './publication-lease';
import { PublicationRow, causeOf, mayExistEvent } from './publication.events';
import { PublicationRepository, WithdrawalRow } from './publication.repository';

/**
 * Withdrawing an alert's posts from one account: every post marked to come down (the alert was
 * deactivated, or the photo it carries was withdrawn or replaced) that exists or may exist. Posts not
 * started are cancelled; a send still in flight is waited for — each wait counts as a failed attempt,
 * so a send that never lands makes a straggler like any other; a post whose send ended ambiguously is
 * looked up by its marker and deleted, or shown absent by spaced look-ups. The round completes only
 * when each one is confirmed gone. Retried until done; after WITHDRAWAL_STRAGGLER_ATTEMPTS failures the
 * straggler is reported once.
 */
@Injectable()
export class WithdrawAlert {
  private readonly logger: Logger;
  private readonly config: DisseminationConfig;
  private readonly search: MarkerSearchPolicy;

  constructor(
    private readonly repo: PublicationRepository,
    private readonly outbox: OutboxWriter,
    private readonly registry: AccountRegistry,
    @Inject(CHANNEL_ADAPTERS) private readonly adapters: Record<Platform, ChannelAdapter>,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<DisseminationConfig>,
  ) {
    this.logger = runtime.logger.child({ component: 'withdraw-alert' });
    this.config = runtime.config;
    this.search = markerSearchPolicy(this.config);
  }

  async run(alertId: string, accountId: string): Promise<void | RunAgain> {
    const round = await this.repo.round(alertId, accountId);
    if (!round) return;
    const { w, account: row } = round;
    const log = this.logger.child({ alertId, accountId });
    if (w.status === 'done') return this.completeAlertIfLast(w, log);
    try {
      const { inFlight, unresolved, nextLookup } = await this.takeDown(w, row, round.retract, log);
      if (inFlight) throw new TransientError(`${inFlight} send(s) still in flight on the account`);
      if (unresolved.length) throw new TransientError(unresolved.join('; '));
      if (nextLookup !== null) return new RunAgain(Math.max(100, nextLookup - Date.now()));
      if (!(await this.repo.completeAccountRound(w.alert_id, w.account_id))) return new RunAgain(500);
    } catch (err) {
      if (err instanceof ChannelError && err.kind === 'rate_limited')
        throw new RateLimitSignal(rateLimitWait(err as RateLimitedError));
      await this.recordFailure(w, row, err, log);
      throw err;
    }
    return this.completeAlertIfLast(w, log);
  }

  private async takeDown(
    w: WithdrawalRow,
    row: AccountRow,
    retract: PublicationRow[],
    log: Logger,
  ): Promise<{ inFlight: number; unresolved: string[]; nextLookup: number | null }> {
    let inFlight = 0;
    let nextLookup: number | null = null;
    const unresolved: string[] = [];
    const adapter = this.adapters[row.platform];
    let account: ChannelAccount | null = null;
    const credentials = (): ChannelAccount => {
      if (row.status === 'auth_revoked')
        throw new TransientError(`account credentials revoked: ${row.status_reason ?? ''}`);
      account ??= this.registry.channelAccount(row);
      if (!account) throw new TransientError('account has no credentials');
      return account;
    };

    for (let pub of retract) {
      if (pub.status === 'pending') {
        const settled = await this.settlePending(pub, log);
        if (settled === 'in_flight') {
          inFlight++;
          continue;
        }
        if (!settled) continue;
        pub = settled;
      }
      const ids = [pub.remote_id, ...pub.other_remote_ids].filter((x): x is string => !!x);
      if (ids.length) {
        await Promise.all(ids.map((id) => adapter.delete(credentials(), id)));
        await this.withdrawn(pub, ids, log);
        continue;
      }
      // May exist, no id known: look it up by its marker.
      const due = nextLookupAt(pub.marker_misses, pub.last_marker_miss_at, this.search);
      if (due > Date.now()) {
        nextLookup = Math.min(nextLookup ?? due, due);
        continue;
      }
      const found = await adapter.findByMarker(credentials(), lookupOf(pub));
      if (found.length) {
        const foundIds = found.map((f) => f.remoteId);
        await Promise.all(foundIds.map((id) => adapter.delete(credentials(), id)));
        await this.withdrawn(pub, foundIds, log);
        continue;
      }
      const misses = await this.repo.recordMiss(pub.id);
      if (!absenceEstablished(misses, this.search)) {
        const at = Date.now() + waitAfterMiss(misses, this.search);
        nextLookup = Math.min(nextLookup ?? at, at);
      } else if (pub.duplicate_refused) {
        // The platform said the post exists; not finding it proves nothing. Keep trying, and report.
        unresolved.push(`post v${pub.alert_version} exists (refused as a repeat) but is not found`);
      } else {
        await this.absent(pub, misses, log);
      }
    }
    return { inFlight, unresolved, nextLookup };
  }

  /**
   * A pending publication to take down. Not started: cancelled, it will never be sent. Its lease live:
   * a send is in flight. Otherwise an earlier send was interrupted: the withdrawal settles it under its
   * own lease — recorded id → posted, else «may exist» — and then takes it down like the others.
   */
  private async settlePending(
    pub: PublicationRow,
    log: Logger,
  ): Promise<PublicationRow | 'in_flight' | null> {
    const claim = await PublicationLease.acquire(this.repo, pub.id, this.config.PUBLICATION_LEASE_MS, log);
    if (!claim) return (await this.repo.leaseState(pub.id))?.status === 'pending' ? 'in_flight' : null;
    const { lease, pub: fresh } = claim;
    try {
      const ids = [fresh.remote_id, ...fresh.other_remote_ids].filter((x): x is string => !!x);
      if (ids.length) {
        const remote = { remoteId: ids[0], url: fresh.remote_url };
        await this.repo.settlePosted(fresh, lease.token, remote, ids.slice(1), true, false);
      } else if (fresh.send_started_at) {
        const reason = 'withdrawn while its send was unresolved';
        await this.repo.transaction(async (m) => {
          const row = await this.repo.markMayExist(m, fresh.id, lease.token, reason);
          if (row)
            await this.outbox.append(
              m,
              TOPICS.publications,
              [mayExistEvent(fresh, reason, row.may_exist_since)],
              { lane: fresh.account_id },
            );
        });
      } else {
        const why = fresh.alert_status === 'active' ? 'superseded' : 'alert_deactivated';
        await this.repo.cancel(fresh.id, lease.token, why);
        return null;
      }
    } finally {
      await lease.release();
    }
    const [again] = (await this.repo.toRetract(pub.alert_id, pub.account_id)).filter((p) => p.id === pub.id);
    return again ?? null;
  }

  private async withdrawn(pub: PublicationRow, deleted: string[], log: Logger): Promise<void> {
    if (await this.repo.settleWithdrawn(pub, deleted))
      log.info({ publicationId: pub.id, version: pub.alert_version }, 'post withdrawn');
    else
      log.info(
        { publicationId: pub.id },
        'post not marked withdrawn: settled already, or an id recorded meanwhile',
      );
  }

  private async absent(pub: PublicationRow, lookups: number, log: Logger): Promise<void> {
    await this.repo.settleAbsent(pub, lookups);
    log.info({ publicationId: pub.id, lookups }, 'post that may have existed confirmed absent');
  }

  /**
   * After an account's round has committed: when no round of the deactivated alert is left pending,
   * records (once) that the withdrawal is complete, with its event (PublicationRepository
   * .completeAlertWithdrawal). Checked after the commit, so of two last rounds finishing together the
   * later check sees both committed. A crash before the check leaves the job to run again, and a run of
   * a round already done makes the check (run()).
   */
  private async completeAlertIfLast(w: WithdrawalRow, log: Logger): Promise<void> {
    const done = await this.repo.completeAlertWithdrawal(w.alert_id, (f) =>
      createEnvelope({
        type: PUBLICATION_EVENT_TYPES.withdrawalCompleted,
        alertId: w.alert_id,
        producer: 'dissemination',
        cause: causeOf(w),
        payload: {
          folio: f.folio,
          outcome: f.outcome,
          accounts: f.accounts,
          postsWithdrawn: f.posts,
          requestedAt: f.requestedAt.toISOString(),
          completedAt: f.completedAt.toISOString(),
        },
      }),
    );
    if (done)
      log.info(
        { folio: done.folio, accounts: done.accounts, postsWithdrawn: done.posts },
        'withdrawal complete on every account',
      );
  }

  private async recordFailure(
    w: WithdrawalRow,
    account: AccountRow,
    err: unknown,
    log: Logger,
  ): Promise<void> {
    const error = describeError(err);
    await this.repo.transaction(async (m) => {
      const attempts = await this.repo.recordWithdrawalFailure(
        m,
        w.alert_id,
        w.account_id,
        error,
        this.config.WITHDRAWAL_STRAGGLER_ATTEMPTS,
      );
      if (attempts === undefined) return;
      await this.outbox.append(m, TOPICS.publications, [
        createEnvelope({
          type: PUBLICATION_EVENT_TYPES.withdrawalDelayed,
          alertId: w.alert_id,
          producer: 'dissemination',
          cause: causeOf(w),
          payload: {
            accountId: account.id,
            platform: account.platform,
            handle: account.handle,
            folio: await this.repo.folio(m, w.alert_id),
            attempts,
            error,
            reportedAt: new Date().toISOString(),
            ownerArea: account.owner_area,
          },
        }),
      ]);
    });
    log.warn({ err: error }, 'withdrawal attempt failed; will retry');
  }
}
