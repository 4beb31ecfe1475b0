import { RuntimeModule, ServiceRuntime } from '@alerta-rosa/runtime';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AlertController } from './alerts/alert.controller';
import { Alert } from './alerts/alert.entity';
import { AlertService } from './alerts/alert.service';
import { ApiExceptionFilter } from '@alerta-rosa/http';
import { IntakeInit1764300000000 } from './migrations/1764300000000-intake-init';
import { MunicipalityCatalog } from './municipalities/municipality.catalog';

export const INTAKE_ENTITIES = [Alert];
export const INTAKE_MIGRATIONS = [IntakeInit1764300000000];

@Module({})
export class IntakeModule {
  static forRoot(runtime: ServiceRuntime): DynamicModule {
    return {
      module: IntakeModule,
      imports: [RuntimeModule.forRoot(runtime, { entities: INTAKE_ENTITIES, migrations: INTAKE_MIGRATIONS })],
      controllers: [AlertController],
      providers: [
        AlertService,
        { provide: MunicipalityCatalog, useValue: MunicipalityCatalog.load() },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
      ],
    };
  }
}
