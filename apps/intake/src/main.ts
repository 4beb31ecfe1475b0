import { runService } from '@alerta-rosa/runtime';
import { jsonBody } from '@alerta-rosa/http';
import { IntakeConfig, intakeConfigSchema } from './intake.config';
import { INTAKE_ENTITIES, INTAKE_MIGRATIONS, IntakeModule } from './intake.module';

runService<IntakeConfig>({
  name: 'intake',
  schema: 'intake',
  configSchema: intakeConfigSchema,
  entities: INTAKE_ENTITIES,
  migrations: INTAKE_MIGRATIONS,
  module: (runtime) => IntakeModule.forRoot(runtime),
  nestOptions: { bodyParser: false },
  configureHttp: (app, runtime) => {
    app.disable('x-powered-by');
    app.use(...jsonBody(runtime.config.INTAKE_JSON_LIMIT));
  },
});
