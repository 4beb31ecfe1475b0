import { TOPICS } from '@alerta-rosa/contracts';
import { jsonBody } from '@alerta-rosa/http';
import { runService } from '@alerta-rosa/runtime';
import { CoordinationConfig, coordinationConfigSchema } from './coordination.config';
import { COORDINATION_ENTITIES, COORDINATION_MIGRATIONS, CoordinationModule } from './coordination.module';

runService<CoordinationConfig>({
  name: 'coordination',
  schema: 'coordination',
  configSchema: coordinationConfigSchema,
  entities: COORDINATION_ENTITIES,
  migrations: COORDINATION_MIGRATIONS,
  module: (runtime) => CoordinationModule.forRoot(runtime),
  consumes: [TOPICS.alerts, TOPICS.publications, TOPICS.tracking],
  nestOptions: { bodyParser: false },
  configureHttp: (app) => {
    app.disable('x-powered-by');
    app.use(...jsonBody('32kb'));
  },
});
