import { RuntimeModule, ServiceRuntime } from '@alerta-rosa/runtime';
import { DynamicModule, Module } from '@nestjs/common';
import { AlertEventsHandler } from './alert-intake/alert-events.handler';
import { CoordinationInit1764300000002 } from './migrations/1764300000002-coordination-init';

export const COORDINATION_ENTITIES = [];
export const COORDINATION_MIGRATIONS = [CoordinationInit1764300000002];

@Module({})
export class CoordinationModule {
  static forRoot(runtime: ServiceRuntime): DynamicModule {
    return {
      module: CoordinationModule,
      imports: [RuntimeModule.forRoot(runtime, { entities: COORDINATION_ENTITIES, migrations: COORDINATION_MIGRATIONS })],
      controllers: [AlertEventsHandler],
    };
  }
}
