import { AuthModule } from '@alerta-rosa/auth';
import { ApiExceptionFilter } from '@alerta-rosa/http';
import { RuntimeModule, SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AlertController } from './alerts/alert.controller';
import { Alert } from './alerts/alert.entity';
import { AlertService } from './alerts/alert.service';
import { AuditController } from './audit/audit.controller';
import { AuditLog } from './audit/audit.log';
import { AuthController } from './auth/auth.controller';
import { TrackerClosureHandler, TrackerClosureService } from './closure/tracker-closure.handler';
import { SessionService } from './auth/session.service';
import { IdempotencyService } from './idempotency/idempotency.service';
import { IntakeConfig } from './intake.config';
import { IntakeInit1764300000000 } from './migrations/1764300000000-intake-init';
import { IntakeLifecycleUsersAudit1764400000000 } from './migrations/1764400000000-intake-lifecycle-users-audit';
import { IntakePrivatePurge1764600000400 } from './migrations/1764600000400-intake-private-purge';
import { IntakeMetrics } from './metrics/intake.metrics';
import { MunicipalityCatalog } from './municipalities/municipality.catalog';
import { MunicipalityController } from './municipalities/municipality.controller';
import { PhotoController, PublicPhotoController } from './photos/photo.controller';
import { PhotoService } from './photos/photo.service';
import { PhotoStorage } from './photos/photo.storage';
import { PhotoUploadInterceptor } from './photos/photo-upload.interceptor';
import { PrivateDataRetention } from './retention/private-data.retention';
import { UserController } from './users/user.controller';
import { UserService } from './users/user.service';

export const INTAKE_ENTITIES = [Alert];
export const INTAKE_MIGRATIONS = [
  IntakeInit1764300000000,
  IntakeLifecycleUsersAudit1764400000000,
  IntakePrivatePurge1764600000400,
];

/**
 * Housekeeping: at start, deletes photo files whose withdrawal committed but whose deletion was cut
 * short by a crash; hourly, forgets expired idempotency keys and old login attempts.
 */
@Injectable()
class Housekeeping implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly photos: PhotoService,
    private readonly dataSource: DataSource,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<IntakeConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const swept = await this.photos.sweepWithdrawn();
    if (swept) this.runtime.logger.info({ swept }, 'withdrawn photo files swept');
    await this.purge();
    this.timer = setInterval(() => void this.purge(), 3600_000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async purge(): Promise<void> {
    try {
      await this.dataSource.query(
        `DELETE FROM intake.idempotency_keys WHERE created_at < clock_timestamp() - make_interval(hours => $1)`,
        [this.runtime.config.IDEMPOTENCY_TTL_HOURS],
      );
      await this.dataSource.query(
        `DELETE FROM intake.login_attempts WHERE at < clock_timestamp() - make_interval(secs => $1)`,
        [Math.max(this.runtime.config.LOGIN_WINDOW_SECONDS, 86400)],
      );
    } catch (err) {
      this.runtime.logger.warn({ err: (err as Error).message }, 'housekeeping failed; retried in an hour');
    }
  }
}

@Module({})
export class IntakeModule {
  static forRoot(runtime: ServiceRuntime<IntakeConfig>): DynamicModule {
    return {
      module: IntakeModule,
      imports: [
        RuntimeModule.forRoot(runtime, { entities: INTAKE_ENTITIES, migrations: INTAKE_MIGRATIONS }),
        AuthModule.forRoot(runtime.config.AUTH_JWT_SECRET),
      ],
      controllers: [
        AlertController,
        PhotoController,
        PublicPhotoController,
        AuthController,
        UserController,
        AuditController,
        TrackerClosureHandler,
        MunicipalityController,
      ],
      providers: [
        AlertService,
        AuditLog,
        IdempotencyService,
        PhotoService,
        PhotoStorage,
        PhotoUploadInterceptor,
        Housekeeping,
        IntakeMetrics,
        PrivateDataRetention,
        SessionService,
        TrackerClosureService,
        UserService,
        { provide: MunicipalityCatalog, useValue: MunicipalityCatalog.load() },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
      ],
    };
  }
}
