import { AuthenticatedUser } from '@alerta-rosa/auth';
import { notFound } from '@alerta-rosa/http';
import { CommittedWorkLoop } from '@alerta-rosa/messaging';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CoordinationConfig } from '../coordination.config';
import {
  AreaDirectory,
  Contact,
  ContactOverride,
  DIRECCION_ENTRY,
  DUTY_OFFICER_ENTRY,
} from './area-directory';

export const DIRECTORY_CHANNEL = 'coordination_directory';

export interface AreaContactsChange {
  emails: string[];
  supervisor?: Contact;
  members?: { name: string; email: string }[];
}

/**
 * Keeps the in-memory directory equal to config/areas.yaml plus the contacts the administrator changed
 * (coordination.directory_contacts). Every replica reloads when a change commits (NOTIFY), and
 * periodically; the first load completes before the service consumes any event.
 */
@Injectable()
export class DirectoryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly loop: CommittedWorkLoop;

  constructor(
    private readonly dataSource: DataSource,
    private readonly directory: AreaDirectory,
    @Inject(SERVICE_RUNTIME) runtime: ServiceRuntime<CoordinationConfig>,
  ) {
    this.loop = new CommittedWorkLoop({
      name: 'coordination-directory',
      databaseUrl: runtime.config.DATABASE_URL,
      channel: DIRECTORY_CHANNEL,
      pollIntervalMs: 60_000,
      logger: runtime.logger.child({ component: 'directory' }),
      run: () => this.reload(),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.reload(); // fails the start-up if the database cannot be read: no event with stale contacts
    await this.loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.loop.stop();
  }

  async reload(): Promise<void> {
    const rows: {
      entry_id: string;
      name: string | null;
      emails: string[];
      supervisor: Contact | null;
      members: { name: string; email: string }[] | null;
    }[] = await this.dataSource.query(
      `SELECT entry_id, name, emails, supervisor, members FROM coordination.directory_contacts`,
    );
    this.directory.applyContacts(
      rows.map((r): ContactOverride => ({
        entryId: r.entry_id,
        name: r.name,
        emails: r.emails,
        supervisor: r.supervisor,
        members: r.members,
      })),
    );
  }

  async changeArea(areaId: string, change: AreaContactsChange, user: AuthenticatedUser) {
    if (!this.directory.area(areaId))
      throw notFound('AREA_NOT_FOUND', 'No existe esa área en el directorio.');
    await this.save(areaId, user, (current) => ({
      name: null,
      emails: change.emails,
      // Fields left out keep what is in force: the stored change (read under lock), else the file.
      supervisor: change.supervisor ?? current?.supervisor ?? this.configured(areaId).supervisor,
      members: change.members ?? current?.members ?? this.configured(areaId).members ?? null,
    }));
    return this.directory.area(areaId)!;
  }

  async changeContact(entry: 'duty-officer' | 'direccion', contact: Contact, user: AuthenticatedUser) {
    const entryId = entry === 'duty-officer' ? DUTY_OFFICER_ENTRY : DIRECCION_ENTRY;
    await this.save(entryId, user, () => ({
      name: contact.name,
      emails: contact.emails,
      supervisor: null,
      members: null,
    }));
    return entry === 'duty-officer' ? this.directory.dutyOfficer : this.directory.direccion;
  }

  async changes(limit: number) {
    const rows = await this.dataSource.query(
      `SELECT id, entry_id, changed_by, changed_at, before, after FROM coordination.directory_changes
        ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r: Record<string, any>) => ({
      id: Number(r.id),
      entry: r.entry_id,
      changedBy: r.changed_by,
      changedAt: new Date(r.changed_at).toISOString(),
      before: r.before,
      after: r.after,
    }));
  }

  /** An entry as config/areas.yaml has it (what «before» is when no change was ever stored). */
  private configured(entryId: string): StoredContact {
    if (entryId === DUTY_OFFICER_ENTRY || entryId === DIRECCION_ENTRY) {
      const c =
        entryId === DUTY_OFFICER_ENTRY ? this.directory.data.dutyOfficer : this.directory.data.direccion;
      return { name: c.name, emails: c.emails, supervisor: null, members: null };
    }
    const a = this.directory.configuredArea(entryId)!;
    return { name: null, emails: a.emails, supervisor: a.supervisor, members: a.members ?? null };
  }

  /**
   * Stores a change and its record in one transaction. The stored entry is read under lock, so two
   * administrators changing the same entry at once are serialised and each record's «before» is true.
   */
  private async save(
    entryId: string,
    user: AuthenticatedUser,
    next: (current: StoredContact | null) => StoredContact,
  ): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const [current]: StoredContact[] = await m.query(
        `SELECT name, emails, supervisor, members FROM coordination.directory_contacts WHERE entry_id = $1 FOR UPDATE`,
        [entryId],
      );
      const before = current ?? this.configured(entryId);
      const after = next(current ?? null);
      await m.query(
        `INSERT INTO coordination.directory_contacts (entry_id, name, emails, supervisor, members, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (entry_id) DO UPDATE SET name = EXCLUDED.name, emails = EXCLUDED.emails,
           supervisor = EXCLUDED.supervisor, members = EXCLUDED.members, updated_by = EXCLUDED.updated_by,
           updated_at = clock_timestamp()`,
        [
          entryId,
          after.name,
          after.emails,
          after.supervisor ? JSON.stringify(after.supervisor) : null,
          after.members ? JSON.stringify(after.members) : null,
          user.id,
        ],
      );
      await m.query(
        `INSERT INTO coordination.directory_changes (entry_id, changed_by, before, after) VALUES ($1, $2, $3, $4)`,
        [entryId, user.id, JSON.stringify(withoutNulls(before)), JSON.stringify(withoutNulls(after))],
      );
      await m.query(`SELECT pg_notify($1, '')`, [DIRECTORY_CHANNEL]);
    });
    await this.reload();
  }
}

interface StoredContact {
  name: string | null;
  emails: string[];
  supervisor: Contact | null;
  members: { name: string; email: string }[] | null;
}

function withoutNulls(c: StoredContact): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== null));
}
