import { AlertOutcome, PublicFicha } from '@alerta-rosa/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

export type AlertStatus = 'draft' | 'active' | 'deactivated' | 'closed' | 'discarded';

@Entity({ name: 'alerts' })
export class Alert {
  @PrimaryColumn('uuid')
  id: string;

  /** AR-<year>-<seq>, assigned on activation (drafts have none). */
  @Column('text', { unique: true, nullable: true })
  folio: string | null;

  @Column('text')
  status: AlertStatus;

  /** Published version: 1 at activation, +1 with every AlertUpdated/AlertDeactivated. */
  @Column('integer')
  version: number;

  /** Stored revision: +1 with every write (drafts, private part, photos); the ETag. */
  @Column('integer')
  revision: number;

  /** Public part of the ficha (may be published). */
  @Column('jsonb')
  ficha: PublicFicha;

  @Column('text', { name: 'activating_body' })
  activatingBody: string;

  /** Normalised name + age, to flag possible duplicates among active alerts. */
  @Column('text', { name: 'duplicate_key', nullable: true })
  duplicateKey: string | null;

  @Column('timestamptz', { name: 'reported_at' })
  reportedAt: Date;

  @Column('timestamptz', { name: 'activated_at', nullable: true })
  activatedAt: Date | null;

  @Column('timestamptz', { name: 'deactivated_at', nullable: true })
  deactivatedAt: Date | null;

  @Column('timestamptz', { name: 'discarded_at', nullable: true })
  discardedAt: Date | null;

  @Column('timestamptz', { name: 'closed_at', nullable: true })
  closedAt: Date | null;

  @Column('text', { nullable: true })
  outcome: AlertOutcome | null;

  @Column('text', { name: 'created_by', nullable: true })
  createdBy: string | null;

  @Column('text', { name: 'updated_by', nullable: true })
  updatedBy: string | null;

  @Column('timestamptz', { name: 'created_at' })
  createdAt: Date;

  @Column('timestamptz', { name: 'updated_at' })
  updatedAt: Date;
}
