import { AuthModule } from '@alerta-rosa/auth';
import { ApiExceptionFilter } from '@alerta-rosa/http';
import { RuntimeModule, ServiceRuntime } from '@alerta-rosa/runtime';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { createHmac } from 'crypto';
import { AckLinkController } from './ack/ack-link.controller';
import { AckLinkSigner } from './ack/ack-link.signer';
import { AlertEventsHandler } from './alert-intake/alert-events.handler';
import { AreaDirectory } from './areas/area-directory';
import { AreaController } from './areas/area.controller';
import { ClosureEventsHandler, ClosureOverdueService } from './closure/closure-events.handler';
import { CoordinationConfig } from './coordination.config';
import { CoordinationQueues } from './jobs/coordination.queues';
import { AccountAlertService, AccountEventsHandler } from './accounts/account-events.handler';
import { DirectoryService } from './areas/directory.service';
import { JobDispatcher } from './jobs/job.dispatcher';
import { QueueReconciler } from './jobs/queue.reconciler';
import { MailRepository } from './mail/mail.repository';
import { MailTransport } from './mail/mail.transport';
import { RecordMailOutcome } from './mail/record-mail-outcome.use-case';
import { SendMail } from './mail/send-mail.use-case';
import { CoordinationInit1764300000002 } from './migrations/1764300000002-coordination-init';
import { CoordinationDirectory1764500000006 } from './migrations/1764500000006-coordination-directory';
import { CoordinationTasks1764400000005 } from './migrations/1764400000005-coordination-tasks';
import { CoordinationReconciler1764600000200 } from './migrations/1764600000200-coordination-reconciler';
import { PsoCatalog } from './pso/pso.catalog';
import { TaskController } from './tasks/task.controller';
import { EscalateTask } from './tasks/escalate-task.use-case';
import { RemindProgress } from './tasks/remind-progress.use-case';
import { TaskRepository } from './tasks/task.repository';
import { TaskService } from './tasks/task.service';
import { CoordinationMetrics } from './metrics/coordination.metrics';

export const COORDINATION_ENTITIES = [];
export const COORDINATION_MIGRATIONS = [
  CoordinationInit1764300000002,
  CoordinationTasks1764400000005,
  CoordinationDirectory1764500000006,
  CoordinationReconciler1764600000200,
];

@Module({})
export class CoordinationModule {
  static forRoot(runtime: ServiceRuntime<CoordinationConfig>): DynamicModule {
    const config = runtime.config;
    // Data under config/ is checked before anything starts: a bad file stops the service with its reason.
    const directory = AreaDirectory.load(config.AREAS_FILE);
    const catalog = PsoCatalog.load(config.PSO_DIR, directory);
    runtime.logger.info(
      {
        areasVersion: directory.version,
        psoVersions: catalog.versions.map((v) => v.version),
        timeScale: config.PSO_TIME_SCALE,
      },
      'PSO and area directory loaded',
    );
    if (config.MAIL_MAX_ATTEMPTS !== undefined) {
      runtime.logger.warn(
        { variable: 'MAIL_MAX_ATTEMPTS' },
        'MAIL_MAX_ATTEMPTS is no longer used: a mail is retried until the relay takes it or refuses it for good (MAIL_DELAYED_AFTER_ATTEMPTS reports it delayed)',
      );
    }
    const ackSecret =
      config.ACK_LINK_SECRET ??
      createHmac('sha256', config.AUTH_JWT_SECRET).update('ack-link-secret').digest('hex');
    return {
      module: CoordinationModule,
      imports: [
        RuntimeModule.forRoot(runtime, {
          entities: COORDINATION_ENTITIES,
          migrations: COORDINATION_MIGRATIONS,
        }),
        AuthModule.forRoot(config.AUTH_JWT_SECRET),
      ],
      controllers: [
        AlertEventsHandler,
        AccountEventsHandler,
        ClosureEventsHandler,
        TaskController,
        AckLinkController,
        AreaController,
      ],
      providers: [
        CoordinationMetrics,
        { provide: AreaDirectory, useValue: directory },
        { provide: PsoCatalog, useValue: catalog },
        { provide: AckLinkSigner, useValue: new AckLinkSigner(ackSecret) },
        { provide: MailTransport, useValue: new MailTransport(config) },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        TaskRepository,
        MailRepository,
        TaskService,
        EscalateTask,
        RemindProgress,
        RecordMailOutcome,
        SendMail,
        DirectoryService,
        AccountAlertService,
        ClosureOverdueService,
        CoordinationQueues,
        JobDispatcher,
        QueueReconciler,
      ],
    };
  }
}
