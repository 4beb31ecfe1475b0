import { AuthModule } from '@alerta-rosa/auth';
import { MunicipalityCatalog } from '@alerta-rosa/config';
import { ApiExceptionFilter } from '@alerta-rosa/http';
import { RuntimeModule, ServiceRuntime } from '@alerta-rosa/runtime';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CapFeedService } from './cap/cap-feed.service';
import { assertCapTimings } from './cap/cap.config';
import { CapController } from './cap/cap.controller';
import { CapIssuer } from './cap/cap.issuer';
import { CapRepository } from './cap/cap.repository';
import { CapScheduler } from './cap/cap.scheduler';
import { TrackerMetrics } from './metrics/tracker.metrics';
import { TrackerConfig } from './tracker.config';
import { TrackerInit1764300000003 } from './migrations/1764300000003-tracker-init';
import { TrackerCap1764600000401 } from './migrations/1764600000401-tracker-cap';
import { TimelineEntry } from './timeline/timeline-entry.entity';
import { TimelineEventsHandler } from './timeline/timeline-events.handler';
import { TimelineController } from './timeline/timeline.controller';
import { TimelineService } from './timeline/timeline.service';
import { TrackedAlert } from './timeline/tracked-alert.entity';

export const TRACKER_ENTITIES = [TimelineEntry, TrackedAlert];
export const TRACKER_MIGRATIONS = [TrackerInit1764300000003, TrackerCap1764600000401];

@Module({})
export class TrackerModule {
  static forRoot(runtime: ServiceRuntime<TrackerConfig>): DynamicModule {
    assertCapTimings(runtime.config);
    return {
      module: TrackerModule,
      imports: [
        AuthModule.forRoot(runtime.config.AUTH_JWT_SECRET),
        RuntimeModule.forRoot(runtime, { entities: TRACKER_ENTITIES, migrations: TRACKER_MIGRATIONS }),
      ],
      controllers: [TimelineController, TimelineEventsHandler, CapController],
      providers: [
        TimelineService,
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        { provide: MunicipalityCatalog, useValue: MunicipalityCatalog.load() },
        CapRepository,
        CapIssuer,
        CapFeedService,
        CapScheduler,
        TrackerMetrics,
      ],
    };
  }
}
