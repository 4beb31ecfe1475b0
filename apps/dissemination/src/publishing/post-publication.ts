import { Platform, PublicationFailureReason, TOPICS } from '@alerta-rosa/contracts';
import { OutboxWriter } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import { Job } from 'bullmq';
import type { Logger } from 'pino';
import { AccountRegistry } from '../accounts/account.registry';
import { AccountsCatalog } from '../accounts/accounts.catalog';
import {
  ChannelAccount,
  ChannelAdapter,
  PostLookup,
  PostRequest,
  RemotePost,
} from '../channels/channel.adapter';
import { ChannelError, RateLimitedError, describeError } from '../channels/channel.errors';
import { renderPostText } from '../content/post.templates';
import { DisseminationConfig } from '../dissemination.config';
import { PublishingJob } from './account-queues';
import {
  MarkerSearchPolicy,
  absenceEstablished,
  markerSearchPolicy,
  nextLookupAt,
  waitAfterMiss,
} from './marker-search';
import { PublicationLease } from './publication-lease';
import { ACCOUNTS_CATALOG, CHANNEL_ADAPTERS, PublicationMedia } from './publication-media';
import { LoadedPublication, PublicationRepository } from './publication.repository';
import { accountRevokedEvent, failedEvent, mayExistEvent } from './publication.events';

export { ACCOUNTS_CATALOG, CHANNEL_ADAPTERS } from './publication-media';

/** The job must run again in `ms` (a look-up is due, a predecessor is pending, a claimant is busy). */
export class RunAgain {
  constructor(readonly ms: number) {}
}

/** A 429 was met: the worker must pause this account's queue for `waitMs`. */
export class RateLimitSignal extends Error {
  constructor(readonly waitMs: number) {
    super(`rate limited for ${waitMs} ms`);
  }
}

/** beforeCreate found the publication no longer ours to send (lease lost, withdrawn meanwhile). */
class NotSent extends Error {}

const WAIT_MS = 1_000;

export function lookupOf(pub: {
  marker: string;
  alert_id: string;
  alert_version: number;
  account_id: string;
}) {
  return {
    marker: pub.marker,
    idempotencyKey: `post-${pub.alert_id}-v${pub.alert_version}-${pub.account_id}`,
  } satisfies PostLookup;
}

export function rateLimitWait(err: RateLimitedError): number {
  return Math.max(0, err.resetAt.getTime() - Date.now()) + 50;
}

type Outcome = void | RunAgain;

/**
 * Posting one publication. The row in PostgreSQL is the truth and the lease makes this run its only
 * sender. Order matters: first whatever an earlier send may have left on the platform is settled
 * (remote id recorded → posted; a send that ended ambiguously → looked for, with spaced look-ups,
 * before anything else is decided), and only then the account and alert checks and, maybe, a send.
 * A publication is never failed or cancelled while a send of it may have posted: it is «may exist».
 */
@Injectable()
export class PostPublication {
  private readonly logger: Logger;
  private readonly config: DisseminationConfig;
  private readonly search: MarkerSearchPolicy;

  constructor(
    private readonly repo: PublicationRepository,
    private readonly outbox: OutboxWriter,
    private readonly registry: AccountRegistry,
    private readonly media: PublicationMedia,
    @Inject(CHANNEL_ADAPTERS) private readonly adapters: Record<Platform, ChannelAdapter>,
    @Inject(ACCOUNTS_CATALOG) private readonly catalog: AccountsCatalog,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<DisseminationConfig>,
  ) {
    this.logger = runtime.logger.child({ component: 'post-publication' });
    this.config = runtime.config;
    this.search = markerSearchPolicy(this.config);
  }

  async run(publicationId: string, job: Job<PublishingJob>): Promise<Outcome> {
    const claim = await PublicationLease.acquire(
      this.repo,
      publicationId,
      this.config.PUBLICATION_LEASE_MS,
      this.logger,
    );
    if (!claim) {
      const state = await this.repo.leaseState(publicationId);
      if (!state || state.status !== 'pending') return;
      // Another run holds it (this job's lock lapsed and BullMQ handed it over while the first run
      // still works, or a withdrawal is settling it): look again soon — that run may finish long before
      // its lease would lapse, and its own BullMQ job may be gone with its lock.
      this.logger.info({ publicationId }, 'publication claimed by another run; waiting for its lease');
      return new RunAgain(Math.min(2_000, Math.max(200, state.remaining_ms + 100)));
    }
    const { lease, pub } = claim;
    let completed = false;
    try {
      const outcome = await this.claimed(pub, lease.token, job);
      completed = true;
      return outcome;
    } finally {
      // An outcome committed under the lease has cleared the claim already: no release round trip.
      if (this.settledUnder.delete(lease.token) && completed) lease.settled();
      else await lease.release();
    }
  }

  /**
   * Claim tokens whose publication an outcome settled and committed (posted, «may exist», failed,
   * cancelled): the claim is cleared, so the lease needs no release.
   */
  private readonly settledUnder = new Set<string>();

  private async claimed(pub: LoadedPublication, token: string, job: Job<PublishingJob>): Promise<Outcome> {
    const id = pub.id;
    const log = this.logger.child({
      alertId: pub.alert_id,
      folio: pub.folio,
      accountId: pub.account_id,
      publicationId: id,
    });
    const row = pub.account;
    const adapter = this.adapters[row.platform];
    const account = this.registry.channelAccount(row);

    // 1. Recovery, before any account or alert check.
    const known = [pub.remote_id, ...pub.other_remote_ids].filter((x): x is string => !!x);
    if (known.length) {
      await this.posted(pub, token, { remoteId: known[0], url: pub.remote_url }, known.slice(1), true, log);
      return;
    }
    if (pub.send_started_at) {
      const recovered = await this.recover(pub, token, account, adapter, job, log);
      if (recovered !== 'absent') return recovered;
    }

    // 2. Nothing of this publication is on the platform: decide whether to post it.
    if (!row.enabled) return this.cancel(pub, token, 'account_disabled');
    if (row.status === 'auth_revoked')
      return this.fail(pub, token, 'auth_revoked', row.status_reason ?? 'credentials revoked', log);
    if (!account) return this.fail(pub, token, 'not_configured', 'account has no credentials', log);
    if (pub.retract)
      return this.cancel(pub, token, pub.alert_status === 'active' ? 'superseded' : 'alert_deactivated');
    if (pub.alert_status !== 'active' && pub.kind !== 'located_notice')
      return this.cancel(pub, token, 'alert_deactivated');
    if (pub.attempts >= this.config.POST_MAX_ATTEMPTS)
      return this.fail(pub, token, 'exhausted', pub.last_error ?? 'attempts exhausted', log);

    let replyTo: string | undefined;
    if (pub.kind === 'update') {
      const parent = await this.repo.threadParent(pub);
      if (parent?.status === 'pending') return new RunAgain(WAIT_MS);
      replyTo = parent?.remote_id ?? undefined;
    }
    const request = await this.buildRequest(pub, account, log);
    if (replyTo) request.replyToRemoteId = replyTo;

    let sendStarted = false;
    let recorded = false;
    try {
      const remote = await adapter.post(account, request, {
        beforeCreate: async () => {
          const attempts = await this.repo.startSend(id, token, this.config.PUBLICATION_LEASE_MS);
          if (attempts === null) throw new NotSent();
          pub.attempts = attempts;
          pub.send_started_at = new Date();
          sendStarted = true;
        },
        // Settled the moment the platform answers: marked posted, with its event, in one statement.
        // Under a lease that was lost meanwhile the post is still a fact: its id is kept for withdrawal.
        onRemoteId: async (remote) => {
          recorded = true;
          if (!(await this.posted(pub, token, remote, [], false, log)))
            await this.repo.recordRemoteId(id, token, remote.remoteId);
        },
        refused: async () => {
          if (!(await this.repo.clearSend(id, token))) throw new NotSent();
          pub.send_started_at = null;
          sendStarted = false;
        },
      });
      if (!recorded) await this.posted(pub, token, remote, [], false, log);
      log.info({ remoteId: remote.remoteId, attempts: pub.attempts }, 'posted');
    } catch (err) {
      return this.onSendError(err, pub, token, account, adapter, job, sendStarted, log);
    }
  }

  /**
   * An earlier send may have posted: look for it. Found → posted. Not found → spaced look-ups until
   * absence is established ('absent': the caller may post), or, for a send the platform refused as a
   * duplicate, «may exist». When the look-up cannot be made (account refused, no credentials) and the
   * publication cannot be posted anyway, it is «may exist»: the withdrawal will look again.
   */
  private async recover(
    pub: LoadedPublication,
    token: string,
    account: ChannelAccount | null,
    adapter: ChannelAdapter,
    job: Job<PublishingJob>,
    log: Logger,
  ): Promise<Outcome | 'absent'> {
    const due = nextLookupAt(pub.marker_misses, pub.last_marker_miss_at, this.search);
    if (due > Date.now()) return new RunAgain(due - Date.now());
    if (!account) return this.mayExist(pub, token, 'no credentials to look the post up', log);
    let found: RemotePost[];
    try {
      found = await adapter.findByMarker(account, lookupOf(pub));
    } catch (err) {
      if (err instanceof ChannelError && err.kind === 'rate_limited')
        throw new RateLimitSignal(rateLimitWait(err as RateLimitedError));
      if (err instanceof ChannelError && err.kind === 'auth_revoked') {
        await this.markRevoked(pub, err.message, log);
        return this.mayExist(pub, token, `look-up refused: ${err.message}`, log);
      }
      const cannotPost =
        !pub.account.enabled ||
        pub.account.status === 'auth_revoked' ||
        pub.retract ||
        (pub.alert_status !== 'active' && pub.kind !== 'located_notice');
      if (cannotPost || this.finalAttempt(job))
        return this.mayExist(pub, token, `look-up failed: ${describeError(err)}`, log);
      throw err; // retried (an attempt is spent); the send stays «may have posted»
    }
    if (found.length) {
      log.info(
        { remoteId: found[0].remoteId, duplicates: found.length - 1 },
        'post found after an interrupted or ambiguous send; not posting again',
      );
      await this.posted(
        pub,
        token,
        found[0],
        found.slice(1).map((f) => f.remoteId),
        true,
        log,
      );
      return;
    }
    const misses = await this.repo.recordMiss(pub.id);
    if (!absenceEstablished(misses, this.search)) return new RunAgain(waitAfterMiss(misses, this.search));
    if (pub.duplicate_refused) {
      return this.mayExist(
        pub,
        token,
        `the platform refused a repeat of this post, which ${misses} look-ups did not find`,
        log,
      );
    }
    if (!(await this.repo.clearSend(pub.id, token))) return new RunAgain(200);
    log.warn({ lookups: misses }, 'earlier send not found after spaced look-ups; it did not post');
    pub.send_started_at = null;
    return 'absent';
  }

  private async onSendError(
    err: unknown,
    pub: LoadedPublication,
    token: string,
    account: ChannelAccount,
    adapter: ChannelAdapter,
    job: Job<PublishingJob>,
    sendStarted: boolean,
    log: Logger,
  ): Promise<Outcome> {
    if (err instanceof NotSent) return new RunAgain(200);
    if (!(err instanceof ChannelError)) {
      log.error({ err: describeError(err) }, 'post attempt failed unexpectedly');
      // Before the send: nothing posted. After it: the next run looks first.
      if (!sendStarted && this.finalAttempt(job))
        await this.fail(pub, token, 'exhausted', describeError(err), log);
      throw err;
    }
    switch (err.kind) {
      case 'rate_limited': {
        if (sendStarted) await this.repo.clearSend(pub.id, token);
        const waitMs = rateLimitWait(err as RateLimitedError);
        log.warn({ waitMs }, 'rate limited; account waits for the reset');
        throw new RateLimitSignal(waitMs);
      }
      case 'auth_revoked':
        if (sendStarted) await this.repo.clearSend(pub.id, token);
        await this.markRevoked(pub, err.message, log);
        return this.fail(pub, token, 'auth_revoked', err.message, log);
      case 'bad_content':
        if (sendStarted) await this.repo.clearSend(pub.id, token);
        return this.fail(pub, token, 'bad_content', err.message, log);
      case 'duplicate':
      case 'ambiguous': {
        // The post may exist (ambiguous), or does (the platform refuses a repeat of it): find it.
        const duplicate = err.kind === 'duplicate';
        log.warn(
          { err: err.message },
          duplicate
            ? 'refused as a duplicate: the post exists; looking it up'
            : 'ambiguous post failure; looking before anything else',
        );
        await this.repo.endSendAmbiguously(pub.id, token, duplicate);
        pub.duplicate_refused = pub.duplicate_refused || duplicate;
        pub.marker_misses = 0;
        pub.last_marker_miss_at = null;
        const outcome = await this.recover(pub, token, account, adapter, job, log);
        return outcome === 'absent' ? new RunAgain(200) : outcome;
      }
      case 'transient':
        if (sendStarted) await this.repo.clearSend(pub.id, token);
        if (this.finalAttempt(job)) await this.fail(pub, token, 'exhausted', err.message, log);
        throw err;
    }
  }

  private finalAttempt(job: Job<PublishingJob>): boolean {
    return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  }

  private async buildRequest(
    pub: LoadedPublication,
    channelAccount: ChannelAccount,
    log: Logger,
  ): Promise<PostRequest> {
    const phones = this.catalog.contact.phones;
    const account = pub.account;
    const text = renderPostText({
      kind: pub.kind,
      platform: account.platform,
      folio: pub.folio,
      version: pub.alert_version,
      ficha: pub.ficha,
      accountRegions: account.regions,
      phones,
      outcome: pub.outcome,
    });
    const request: PostRequest = {
      text,
      marker: pub.marker,
      idempotencyKey: lookupOf(pub).idempotencyKey,
      data: { folio: pub.folio, kind: pub.kind, alertVersion: pub.alert_version },
    };
    if (pub.with_image) {
      const { image, photo } = await this.media.image(pub.folio, pub.ficha);
      if (photo === 'unavailable')
        log.warn('the ficha photo could not be fetched; the card goes out without it');
      request.image = image;
      if (channelAccount) request.shareImageWith = this.media.shareGroup(channelAccount);
    }
    return request;
  }

  // ------------------------------------------------------------------ outcomes

  private async posted(
    pub: LoadedPublication,
    token: string,
    remote: RemotePost,
    others: string[],
    recovered: boolean,
    log: Logger,
  ): Promise<boolean> {
    const row = await this.repo.settlePosted(pub, token, remote, others, recovered);
    if (!row) {
      log.warn('outcome not recorded: the publication is no longer under this lease');
      return false;
    }
    pub.attempts = row.attempts;
    this.settledUnder.add(token);
    return true;
  }

  private async mayExist(
    pub: LoadedPublication,
    token: string,
    reason: string,
    log: Logger,
  ): Promise<Outcome> {
    const settled = await this.repo.transaction(async (m) => {
      const row = await this.repo.markMayExist(m, pub.id, token, reason);
      if (!row) return false;
      pub.attempts = row.attempts;
      await this.outbox.append(m, TOPICS.publications, [mayExistEvent(pub, reason, row.may_exist_since)], {
        lane: pub.account_id,
      });
      if (row.retract && pub.with_image) await this.repo.reopenWithdrawal(m, pub);
      return true;
    });
    if (settled) this.settledUnder.add(token);
    log.warn({ reason }, 'publication may exist; treated as existing');
  }

  private async fail(
    pub: LoadedPublication,
    token: string,
    reason: PublicationFailureReason,
    error: string,
    log: Logger,
  ): Promise<Outcome> {
    const failed = await this.repo.transaction(async (m) => {
      const row = await this.repo.fail(m, pub.id, token, reason, error);
      if (!row) return false;
      pub.attempts = row.attempts;
      await this.outbox.append(m, TOPICS.publications, [failedEvent(pub, reason, error)], {
        lane: pub.account_id,
      });
      return true;
    });
    if (failed) {
      this.settledUnder.add(token);
      log.warn({ reason }, 'publication failed');
    }
  }

  private async cancel(pub: LoadedPublication, token: string, why: string): Promise<Outcome> {
    if (await this.repo.cancel(pub.id, token, why)) this.settledUnder.add(token);
  }

  /** The first refusal marks the account and tells its owner area (coordination mails them). */
  private async markRevoked(pub: LoadedPublication, message: string, log: Logger): Promise<void> {
    await this.repo.transaction(async (m) => {
      if (await this.registry.markAuthRevoked(m, pub.account_id, message)) {
        await this.outbox.append(m, TOPICS.publications, [
          accountRevokedEvent(pub, pub.account.owner_area, message, new Date()),
        ]);
        log.error('account credentials revoked; account marked, owner area alerted');
      }
    });
    pub.account.status = 'auth_revoked';
  }
}
