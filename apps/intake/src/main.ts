import { TOPICS } from '@alerta-rosa/contracts';
import { jsonBody } from '@alerta-rosa/http';
import { runService } from '@alerta-rosa/runtime';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { IntakeConfig, intakeConfigSchema } from './intake.config';
import { INTAKE_ENTITIES, INTAKE_MIGRATIONS, IntakeModule } from './intake.module';

/** Photo uploads are multipart: the JSON-only body parser must let them through to multer. */
const PHOTO_UPLOAD = /^\/api\/v1\/alerts\/[^/]+\/photos\/?$/;

runService<IntakeConfig>({
  name: 'intake',
  schema: 'intake',
  configSchema: intakeConfigSchema,
  entities: INTAKE_ENTITIES,
  migrations: INTAKE_MIGRATIONS,
  module: (runtime) => IntakeModule.forRoot(runtime),
  // The tracker's closure decisions (AlertClosed) move alerts to closed.
  consumes: [TOPICS.tracking],
  nestOptions: { bodyParser: false },
  configureHttp: (app, runtime) => {
    const config = runtime.config;
    app.disable('x-powered-by');
    app.set('trust proxy', config.TRUST_PROXY);
    app.use(helmet({ crossOriginResourcePolicy: { policy: 'cross-origin' } })); // photos are embedded elsewhere
    if (config.CORS_ORIGINS.length) {
      app.enableCors({
        origin: config.CORS_ORIGINS,
        credentials: false,
        allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match', 'X-Correlation-Id'],
        exposedHeaders: ['ETag', 'Idempotent-Replayed'],
        maxAge: 600,
      });
    }
    const json = jsonBody(config.INTAKE_JSON_LIMIT);
    app.use(unless((req) => req.method === 'POST' && PHOTO_UPLOAD.test(req.path), json));
    if (config.API_DOCS_ENABLED) {
      const document = SwaggerModule.createDocument(
        app,
        new DocumentBuilder()
          .setTitle('Alerta Rosa — intake')
          .setDescription(
            'Fichas, ciclo de vida de la alerta, fotos, usuarios, sesiones y bitácora. Errores: {code, message, fields?}.',
          )
          .setVersion('1')
          .addBearerAuth()
          .build(),
      );
      SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
    }
  },
});

/** Runs a middleware chain (including error handlers) unless the request matches. */
function unless(skip: (req: Request) => boolean, chain: RequestHandler[] | unknown[]): RequestHandler {
  const handlers = chain as ((...args: unknown[]) => void)[];
  return (req: Request, res: Response, next: NextFunction) => {
    if (skip(req)) return next();
    let i = 0;
    const step = (err?: unknown): void => {
      const handler = handlers[i++];
      if (!handler) return next(err);
      const isErrorHandler = handler.length === 4;
      if (err) return isErrorHandler ? handler(err, req, res, step) : step(err);
      return isErrorHandler ? step() : handler(req, res, step);
    };
    step();
  };
}
