import {
  AccountAuthRevoked,
  Envelope,
  PUBLICATION_EVENT_TYPES,
  TOPICS,
  WithdrawalDelayed,
} from '@alerta-rosa/contracts';
import { CommitNotifier, InboxContext } from '@alerta-rosa/messaging';
import { Controller, Injectable } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EntityManager } from 'typeorm';
import { AreaDirectory } from '../areas/area-directory';
import { RenderedMail, renderAccountRevoked, renderWithdrawalDelayed } from '../mail/mail.templates';
import { notifyDispatch } from '../tasks/sql';
import { insertMail } from '../tasks/task-mail.factory';

/** Area alerted when an account's owner area is not in the directory. */
export const FALLBACK_ACCOUNT_AREA = 'comunicacion-social';

/**
 * What dissemination reports about the official accounts that needs people — a platform refused an
 * account's credentials, or a ficha cannot be withdrawn from an account — goes at once by e-mail to the
 * account's owner area (Comunicación Social for most), through the same durable mail queue as the PSO mails.
 */
@Injectable()
export class AccountAlertService {
  constructor(
    private readonly directory: AreaDirectory,
    private readonly notifier: CommitNotifier,
  ) {}

  async onAccountAuthRevoked(m: EntityManager, event: Envelope<AccountAuthRevoked>): Promise<void> {
    const p = event.payload;
    await this.mailOwner(m, event, 'account_revoked', p.ownerArea, (areaName) =>
      renderAccountRevoked({ ...p, areaName, detectedAt: new Date(p.detectedAt) }),
    );
  }

  async onWithdrawalDelayed(m: EntityManager, event: Envelope<WithdrawalDelayed>): Promise<void> {
    const p = event.payload;
    await this.mailOwner(m, event, 'withdrawal_delayed', p.ownerArea, (areaName) =>
      renderWithdrawalDelayed({ ...p, areaName, reportedAt: new Date(p.reportedAt) }),
    );
  }

  /** One mail per event (id from the event id) to the owner area, through the durable mail queue. */
  private async mailOwner(
    m: EntityManager,
    event: Envelope,
    kind: 'account_revoked' | 'withdrawal_delayed',
    ownerArea: string | undefined,
    render: (areaName: string) => RenderedMail,
  ): Promise<void> {
    const area =
      (ownerArea ? this.directory.area(ownerArea) : undefined) ?? this.directory.area(FALLBACK_ACCOUNT_AREA);
    const contact = area ?? this.directory.dutyOfficer;
    const inserted = await insertMail(m, {
      id: `${kind.replace('_', '-')}-${event.eventId}`,
      kind,
      alertId: event.alertId,
      taskId: null,
      areaId: area?.id ?? 'duty-officer',
      recipients: contact.emails,
      rendered: render(contact.name),
      photoUrl: null,
    });
    if (inserted) notifyDispatch(this.notifier, m);
  }
}

/** publications.v1: coordination acts only on what needs people (account alerts); the rest is skipped. */
@Controller()
export class AccountEventsHandler {
  constructor(private readonly accounts: AccountAlertService) {}

  @EventPattern(TOPICS.publications)
  async onPublicationEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): Promise<void> {
    switch (event.type) {
      case PUBLICATION_EVENT_TYPES.accountAuthRevoked:
        return this.accounts.onAccountAuthRevoked(ctx.manager, event as Envelope<AccountAuthRevoked>);
      case PUBLICATION_EVENT_TYPES.withdrawalDelayed:
        return this.accounts.onWithdrawalDelayed(ctx.manager, event as Envelope<WithdrawalDelayed>);
    }
  }
}
