import { AuthModule } from '@alerta-rosa/auth';
import { ApiExceptionFilter } from '@alerta-rosa/http';
import { RuntimeModule, ServiceRuntime } from '@alerta-rosa/runtime';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountController } from './accounts/account.controller';
import { AccountRegistry } from './accounts/account.registry';
import { loadAccountsCatalog } from './accounts/accounts.catalog';
import { AlertEventsHandler } from './alert-intake/alert-events.handler';
import { FacebookAdapter } from './channels/facebook.adapter';
import { WebhookAdapter } from './channels/webhook.adapter';
import { XAdapter } from './channels/x.adapter';
import { FichaCardRenderer } from './content/ficha-card.renderer';
import { DisseminationConfig } from './dissemination.config';
import { DisseminationMetrics } from './metrics/dissemination.metrics';
import { DisseminationInit1764300000001 } from './migrations/1764300000001-dissemination-init';
import { DisseminationPublications1764400000001 } from './migrations/1764400000001-dissemination-publications';
import { DisseminationMayExistLeases1764600000100 } from './migrations/1764600000100-dissemination-may-exist-leases';
import { FanOutService } from './publishing/fan-out.service';
import { PendingDispatcher } from './publishing/pending.dispatcher';
import { PostPublication } from './publishing/post-publication';
import { ACCOUNTS_CATALOG, CHANNEL_ADAPTERS, PublicationMedia } from './publishing/publication-media';
import { PublicationController } from './publishing/publication.controller';
import { PublicationRepository } from './publishing/publication.repository';
import { PublishingService } from './publishing/publishing.service';
import { WithdrawAlert } from './publishing/withdraw-alert';

export const DISSEMINATION_ENTITIES = [];
export const DISSEMINATION_MIGRATIONS = [
  DisseminationInit1764300000001,
  DisseminationPublications1764400000001,
  DisseminationMayExistLeases1764600000100,
];

@Module({})
export class DisseminationModule {
  static forRoot(runtime: ServiceRuntime<DisseminationConfig>): DynamicModule {
    const c = runtime.config;
    return {
      module: DisseminationModule,
      imports: [
        RuntimeModule.forRoot(runtime, {
          entities: DISSEMINATION_ENTITIES,
          migrations: DISSEMINATION_MIGRATIONS,
        }),
        AuthModule.forRoot(c.AUTH_JWT_SECRET),
      ],
      controllers: [AlertEventsHandler, AccountController, PublicationController],
      providers: [
        DisseminationMetrics,
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: ACCOUNTS_CATALOG, useValue: loadAccountsCatalog(c.ACCOUNTS_FILE) },
        {
          provide: FichaCardRenderer,
          useFactory: () => {
            const renderer = new FichaCardRenderer(c.PHOTO_FETCH_TIMEOUT_MS);
            // In the background while the service starts: the first alert's cards do not pay for it.
            void renderer.warmUp();
            return renderer;
          },
        },
        {
          provide: CHANNEL_ADAPTERS,
          useValue: {
            x: new XAdapter({
              apiBaseUrl: c.X_API_BASE_URL,
              uploadBaseUrl: c.X_UPLOAD_BASE_URL,
              timeoutMs: c.CHANNEL_TIMEOUT_MS,
            }),
            facebook: new FacebookAdapter({
              graphBaseUrl: c.FACEBOOK_GRAPH_BASE_URL,
              graphVersion: c.FACEBOOK_GRAPH_VERSION,
              timeoutMs: c.CHANNEL_TIMEOUT_MS,
            }),
            webhook: new WebhookAdapter({ timeoutMs: c.CHANNEL_TIMEOUT_MS }),
          },
        },
        AccountRegistry,
        FanOutService,
        PublicationRepository,
        PublicationMedia,
        PostPublication,
        WithdrawAlert,
        PublishingService,
        PendingDispatcher,
      ],
    };
  }
}
