import {
  ALERT_EVENT_TYPES,
  AlertActivated,
  AlertUpdated,
  Envelope,
  Platform,
  PublicFicha,
} from '@alerta-rosa/contracts';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { AccountRegistry, AccountRow } from '../accounts/account.registry';
import { AccountsCatalog } from '../accounts/accounts.catalog';
import { ChannelAccount, ChannelAdapter, PostImage } from '../channels/channel.adapter';
import { XAdapter } from '../channels/x.adapter';
import { CardPhoto, FichaCardRenderer } from '../content/ficha-card.renderer';
import { renderAltText } from '../content/post.templates';
import { DisseminationConfig } from '../dissemination.config';

export const CHANNEL_ADAPTERS = Symbol('CHANNEL_ADAPTERS');
export const ACCOUNTS_CATALOG = Symbol('ACCOUNTS_CATALOG');

/**
 * The image a version's posts carry (the ficha card and its alt text) and the head start on it: when an
 * alert event arrives, before its publications are even written, the card is rendered (once per version)
 * and uploaded to X once per app for all its accounts (`additional_owners`), so that each account's job
 * finds the media ready and makes only the call that posts. Everything here is a cache in front of what
 * a job would do on its own: a job that finds nothing prepared (another replica took the event, the
 * upload failed) renders and uploads itself.
 */
@Injectable()
export class PublicationMedia {
  private readonly logger: Logger;

  constructor(
    private readonly cards: FichaCardRenderer,
    private readonly registry: AccountRegistry,
    @Inject(CHANNEL_ADAPTERS) private readonly adapters: Record<Platform, ChannelAdapter>,
    @Inject(ACCOUNTS_CATALOG) private readonly catalog: AccountsCatalog,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<DisseminationConfig>,
  ) {
    this.logger = runtime.logger.child({ component: 'publication-media' });
  }

  /** The card of this version of the ficha, with its alt text. */
  async image(folio: string, ficha: PublicFicha): Promise<{ image: PostImage; photo: CardPhoto }> {
    const phones = this.catalog.contact.phones;
    const card = await this.cards.render({ folio, ficha, phones });
    return {
      image: {
        data: card.data,
        contentType: card.contentType,
        altText: renderAltText(folio, ficha, phones, card.photo === 'shown'),
      },
      photo: card.photo,
    };
  }

  /** The other X accounts of this account's app that take posts (one upload serves them all). */
  shareGroup(account: ChannelAccount): ChannelAccount[] {
    if (account.platform !== 'x') return [];
    return this.xAccounts().filter(
      (a) => a.id !== account.id && a.credentials.consumerKey === account.credentials.consumerKey,
    );
  }

  /**
   * Called as an alert event arrives (not awaited): for an activation or update, renders its card and
   * uploads it once per X app. Never throws; whatever fails here the jobs do again themselves.
   */
  prepare(event: Envelope): void {
    if (event.type !== ALERT_EVENT_TYPES.activated && event.type !== ALERT_EVENT_TYPES.updated) return;
    const { folio, ficha } = (event as Envelope<AlertActivated | AlertUpdated>).payload;
    this.prepareFicha(folio, ficha);
  }

  /**
   * The same head start for a version whose posts are still to be made when the process starts (a
   * restart after a crash mid-fan-out): its card is rendered, and uploaded to X, while the dead
   * process's jobs are being handed back. Not awaited; never throws.
   */
  prepareFicha(folio: string, ficha: PublicFicha): void {
    void this.prepareVersion(folio, ficha).catch((err: Error) =>
      this.logger.debug({ folio, err: err.message }, 'media head start failed; the posts upload their own'),
    );
  }

  private async prepareVersion(folio: string, ficha: PublicFicha): Promise<void> {
    const { image } = await this.image(folio, ficha);
    const x = this.adapters.x as XAdapter;
    const byApp = new Map<string, ChannelAccount[]>();
    for (const a of this.xAccounts()) {
      const app = a.credentials.consumerKey;
      byApp.set(app, [...(byApp.get(app) ?? []), a]);
    }
    await Promise.all([...byApp.values()].map((group) => x.prepareMedia(group[0], image, group)));
  }

  /** X accounts that would post now (enabled, not revoked, with credentials), decrypted. */
  private xAccounts(): ChannelAccount[] {
    const rows = this.registry.lastListed();
    if (rows !== this.decryptedFrom) {
      this.decrypted = rows
        .filter((r: AccountRow) => r.platform === 'x' && r.enabled && r.status !== 'auth_revoked')
        .map((r) => this.registry.channelAccount(r))
        .filter((a): a is ChannelAccount => !!a?.credentials.consumerKey && !!a.credentials.userId);
      this.decryptedFrom = rows;
    }
    return this.decrypted;
  }

  private decrypted: ChannelAccount[] = [];
  private decryptedFrom: AccountRow[] | null = null;
}
