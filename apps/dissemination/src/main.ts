import { TOPICS } from '@alerta-rosa/contracts';
import { runService } from '@alerta-rosa/runtime';
import { DisseminationConfig, disseminationConfigSchema } from './dissemination.config';
import {
  DISSEMINATION_ENTITIES,
  DISSEMINATION_MIGRATIONS,
  DisseminationModule,
} from './dissemination.module';

runService<DisseminationConfig>({
  name: 'dissemination',
  schema: 'dissemination',
  configSchema: disseminationConfigSchema,
  entities: DISSEMINATION_ENTITIES,
  migrations: DISSEMINATION_MIGRATIONS,
  module: (runtime) => DisseminationModule.forRoot(runtime),
  consumes: [TOPICS.alerts],
  configureHttp: (app) => app.disable('x-powered-by'),
  // Its queues and HTTP resume at once after a restart; the consumer joins when the dead member is gone.
  readyBeforeConsumerJoins: true,
});
