import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One line of an alert's timeline: an event as the tracker received it. */
@Entity({ name: 'timeline_entries' })
export class TimelineEntry {
  /** Order in which the tracker recorded entries. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  seq: string;

  @Column('uuid', { name: 'alert_id' })
  alertId: string;

  @Column('uuid', { name: 'event_id', unique: true })
  eventId: string;

  @Column('text', { name: 'event_type' })
  eventType: string;

  /** Service that produced the event. */
  @Column('text')
  source: string;

  @Column('integer', { name: 'alert_version', nullable: true })
  alertVersion: number | null;

  @Column('timestamptz', { name: 'occurred_at' })
  occurredAt: Date;

  @Column('timestamptz', { name: 'recorded_at', default: () => 'clock_timestamp()' })
  recordedAt: Date;

  @Column('uuid', { name: 'correlation_id' })
  correlationId: string;

  /** Non-personal facts for the committee: folio, outcome, changed field names, receipts. */
  @Column('jsonb')
  details: Record<string, unknown>;
}
