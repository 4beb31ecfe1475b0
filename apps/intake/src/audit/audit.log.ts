import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Actor } from '../common/actor';

export interface AuditEntry {
  action: string;
  alertId?: string | null;
  targetId?: string | null;
  /** What changed: field names, states, outcome. Never values of the private part. */
  details?: Record<string, unknown>;
}

/** Audit actions (stable identifiers, queryable). */
export const AUDIT = {
  alertCreated: 'alert.created',
  alertUpdated: 'alert.updated',
  alertActivated: 'alert.activated',
  alertDiscarded: 'alert.discarded',
  alertDeactivated: 'alert.deactivated',
  alertClosed: 'alert.closed',
  privateRead: 'alert.private.read',
  privatePurged: 'alert.private.purged',
  photoAdded: 'photo.added',
  photoWithdrawn: 'photo.withdrawn',
  loginSucceeded: 'auth.login.succeeded',
  loginFailed: 'auth.login.failed',
  refreshReused: 'auth.refresh.reused',
  logout: 'auth.logout',
  userCreated: 'user.created',
  userUpdated: 'user.updated',
} as const;

/**
 * Append-only audit log (a trigger refuses UPDATE/DELETE/TRUNCATE). State changes are recorded in the
 * same transaction as the change itself, so there is no change without its entry.
 */
@Injectable()
export class AuditLog {
  constructor(private readonly dataSource: DataSource) {}

  async record(manager: EntityManager | null, actor: Actor, entry: AuditEntry): Promise<void> {
    await (manager ?? this.dataSource.manager).query(
      `INSERT INTO intake.audit_log (actor_id, actor_role, ip, action, alert_id, target_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        actor.id,
        actor.role,
        actor.ip,
        entry.action,
        entry.alertId ?? null,
        entry.targetId ?? null,
        JSON.stringify(entry.details ?? {}),
      ],
    );
  }
}
