import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The tracker's own projection of an alert's state (more columns: see projection/projector.ts). */
@Entity({ name: 'alerts' })
export class TrackedAlert {
  @PrimaryColumn('uuid', { name: 'alert_id' })
  alertId: string;

  @Column('text', { nullable: true })
  folio: string | null;

  @Column('text')
  status: string;

  @Column('integer')
  version: number;

  @Column('timestamptz', { name: 'activated_at', nullable: true })
  activatedAt: Date | null;

  @Column('timestamptz', { name: 'deactivated_at', nullable: true })
  deactivatedAt: Date | null;

  @Column('text', { nullable: true })
  outcome: string | null;
}
