import { TOPICS } from '@alerta-rosa/contracts';
import { runService } from '@alerta-rosa/runtime';
import { TrackerConfig, trackerConfigSchema } from './tracker.config';
import { TRACKER_ENTITIES, TRACKER_MIGRATIONS, TrackerModule } from './tracker.module';

runService<TrackerConfig>({
  name: 'tracker',
  schema: 'tracker',
  configSchema: trackerConfigSchema,
  entities: TRACKER_ENTITIES,
  migrations: TRACKER_MIGRATIONS,
  module: (runtime) => TrackerModule.forRoot(runtime),
  consumes: [TOPICS.alerts, TOPICS.publications, TOPICS.tasks, TOPICS.tracking],
});
