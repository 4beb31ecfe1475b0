import { AlertOutcome, PublicFicha } from '@alerta-rosa/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

export type AlertStatus = 'draft' | 'active' | 'deactivated' | 'closed' | 'discarded';

@Entity({ name: 'alerts' })
export class Alert {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text', { unique: true })
  folio: string;

  @Column('text')
  status: AlertStatus;

  @Column('integer')
  version: number;

  /** Public part of the ficha (may be published). */
  @Column('jsonb')
  ficha: PublicFicha;

  @Column('timestamptz', { name: 'reported_at' })
  reportedAt: Date;

  @Column('timestamptz', { name: 'activated_at', nullable: true })
  activatedAt: Date | null;

  @Column('timestamptz', { name: 'deactivated_at', nullable: true })
  deactivatedAt: Date | null;

  @Column('text', { nullable: true })
  outcome: AlertOutcome | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}
