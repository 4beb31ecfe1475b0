import { createMessagingTables, dropMessagingTables } from '@alerta-rosa/messaging';
import { MigrationInterface, QueryRunner } from 'typeorm';

export class DisseminationInit1764300000001 implements MigrationInterface {
  name = 'DisseminationInit1764300000001';

  async up(q: QueryRunner): Promise<void> {
    await createMessagingTables(q, 'dissemination');
  }

  async down(q: QueryRunner): Promise<void> {
    await dropMessagingTables(q, 'dissemination');
  }
}
