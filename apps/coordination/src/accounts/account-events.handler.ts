import { AccountAuthRevoked, Envelope, PUBLICATION_EVENT_TYPES, TOPICS } from '@alerta-rosa/contracts';
import { InboxContext } from '@alerta-rosa/messaging';
import { Controller, Injectable } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EntityManager } from 'typeorm';
import { AreaDirectory } from '../areas/area-directory';
import { renderAccountRevoked } from '../mail/mail.templates';
import { notifyDispatch } from '../tasks/sql';
import { insertMail } from '../tasks/task-mail.factory';

/** Area alerted when an account's owner area is not in the directory. */
export const FALLBACK_ACCOUNT_AREA = 'comunicacion-social';

/**
 * What dissemination reports about the official accounts that needs people: a platform refused an
 * account's credentials, so its owner area (Comunicación Social for most) gets an e-mail at once,
 * through the same durable mail queue as the PSO mails.
 */
@Injectable()
export class AccountAlertService {
  constructor(private readonly directory: AreaDirectory) {}

  async onAccountAuthRevoked(m: EntityManager, event: Envelope<AccountAuthRevoked>): Promise<void> {
    const p = event.payload;
    const area = this.directory.area(p.ownerArea) ?? this.directory.area(FALLBACK_ACCOUNT_AREA);
    const contact = area ?? this.directory.data.dutyOfficer;
    const inserted = await insertMail(m, {
      id: `account-revoked-${event.eventId}`,
      kind: 'account_revoked',
      alertId: event.alertId,
      taskId: null,
      areaId: area?.id ?? 'duty-officer',
      recipients: contact.emails,
      rendered: renderAccountRevoked({
        folio: p.folio,
        areaName: contact.name,
        handle: p.handle,
        platform: p.platform,
        accountId: p.accountId,
        error: p.error,
        detectedAt: new Date(p.detectedAt),
      }),
      photoUrl: null,
    });
    if (inserted) await notifyDispatch(m);
  }
}

/** publications.v1: coordination acts only on account alerts; every other publication event is skipped. */
@Controller()
export class AccountEventsHandler {
  constructor(private readonly accounts: AccountAlertService) {}

  @EventPattern(TOPICS.publications)
  async onPublicationEvent(@Payload() event: Envelope, @Ctx() ctx: InboxContext): Promise<void> {
    if (event.type === PUBLICATION_EVENT_TYPES.accountAuthRevoked) {
      await this.accounts.onAccountAuthRevoked(ctx.manager, event as Envelope<AccountAuthRevoked>);
    }
  }
}
