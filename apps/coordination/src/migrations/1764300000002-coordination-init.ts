import { createMessagingTables, dropMessagingTables } from '@alerta-rosa/messaging';
import { MigrationInterface, QueryRunner } from 'typeorm';

export class CoordinationInit1764300000002 implements MigrationInterface {
  name = 'CoordinationInit1764300000002';

  async up(q: QueryRunner): Promise<void> {
    await createMessagingTables(q, 'coordination');
  }

  async down(q: QueryRunner): Promise<void> {
    await dropMessagingTables(q, 'coordination');
  }
}
