import { RuntimeModule, ServiceRuntime } from '@alerta-rosa/runtime';
import { DynamicModule, Module } from '@nestjs/common';
import { AlertEventsHandler } from './alert-intake/alert-events.handler';
import { DisseminationInit1764300000001 } from './migrations/1764300000001-dissemination-init';

export const DISSEMINATION_ENTITIES = [];
export const DISSEMINATION_MIGRATIONS = [DisseminationInit1764300000001];

@Module({})
export class DisseminationModule {
  static forRoot(runtime: ServiceRuntime): DynamicModule {
    return {
      module: DisseminationModule,
      imports: [RuntimeModule.forRoot(runtime, { entities: DISSEMINATION_ENTITIES, migrations: DISSEMINATION_MIGRATIONS })],
      controllers: [AlertEventsHandler],
    };
  }
}
