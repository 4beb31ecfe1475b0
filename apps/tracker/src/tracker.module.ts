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
import { TrackerFigureColumns1764700000300 } from './migrations/1764700000300-tracker-figure-columns';
import { ClosureOverdueScheduler } from './closure/closure-overdue.scheduler';
import { ClosureController } from './closure/closure.controller';
import { ClosureDecider } from './closure/closure.decider';
import { ClosureRepository } from './closure/closure.repository';
import { ClosureService } from './closure/closure.service';
import { CommitteeController } from './committee/committee.controller';
import { CommitteeRepository } from './committee/committee.repository';
import { CommitteeService } from './committee/committee.service';
import { AVGM_DECLARED, GeographyCatalog } from './committee/geography.catalog';
import { TrackerClosureCommittee1764600000300 } from './migrations/1764600000300-tracker-closure-committee';
import { Projector } from './projection/projector';
import { ExportController } from './reports/export.controller';
import { PeriodReportRenderer } from './reports/period-report.renderer';
import { TimelineEntry } from './timeline/timeline-entry.entity';
import { TimelineEventsHandler } from './timeline/timeline-events.handler';
import { TimelineController } from './timeline/timeline.controller';
import { TimelineService } from './timeline/timeline.service';
import { TrackedAlert } from './timeline/tracked-alert.entity';

export const TRACKER_ENTITIES = [TimelineEntry, TrackedAlert];
export const TRACKER_MIGRATIONS = [
  TrackerInit1764300000003,
  TrackerClosureCommittee1764600000300,
  TrackerCap1764600000401,
  TrackerFigureColumns1764700000300,
];

@Module({})
export class TrackerModule {
  static forRoot(runtime: ServiceRuntime<TrackerConfig>): DynamicModule {
    assertCapTimings(runtime.config);
    // Data under config/ is checked before anything starts: a bad file stops the service with its reason.
    const geography = GeographyCatalog.load(runtime.config.REGIONS_FILE, runtime.config.AVGM_FILE);
    runtime.logger.info(
      {
        regions: geography.regions.length,
        avgmMunicipalities: geography.avgm.size,
        avgmDeclared: AVGM_DECLARED,
      },
      geography.avgm.size < AVGM_DECLARED
        ? 'geography loaded; the AVGM list is incomplete (config/data/README.md)'
        : 'geography loaded',
    );
    return {
      module: TrackerModule,
      imports: [
        AuthModule.forRoot(runtime.config.AUTH_JWT_SECRET),
        RuntimeModule.forRoot(runtime, { entities: TRACKER_ENTITIES, migrations: TRACKER_MIGRATIONS }),
      ],
      controllers: [
        TimelineController,
        TimelineEventsHandler,
        ClosureController,
        CommitteeController,
        ExportController,
        CapController,
      ],
      providers: [
        { provide: GeographyCatalog, useValue: geography },
        { provide: Projector, useValue: new Projector('tracker', geography) },
        TimelineService,
        ClosureRepository,
        ClosureDecider,
        ClosureService,
        ClosureOverdueScheduler,
        CommitteeRepository,
        CommitteeService,
        PeriodReportRenderer,
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
