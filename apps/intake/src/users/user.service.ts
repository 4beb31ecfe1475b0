import { Role } from '@alerta-rosa/auth';
import { newId } from '@alerta-rosa/contracts';
import { ApiError } from '@alerta-rosa/http';
import { HttpStatus, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AUDIT, AuditLog } from '../audit/audit.log';
import { Actor } from '../common/actor';
import { PasswordHasher } from './password.hasher';
import { CreateUserInput, UpdateUserInput } from './user.schemas';

export interface UserRow {
  id: string;
  username: string;
  display_name: string;
  role: Role;
  area_id: string | null;
  password_hash: string;
  active: boolean;
  created_at: Date;
}

export function presentUser(u: UserRow) {
  return {
    id: u.id,
    username: u.username,
    displayName: u.display_name,
    role: u.role,
    areaId: u.area_id,
    active: u.active,
    createdAt: new Date(u.created_at).toISOString(),
  };
}

/** Users of the system; created by an admin (or, the first admin, by the CLI). */
@Injectable()
export class UserService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
  ) {}

  async create(m: EntityManager, input: CreateUserInput, actor: Actor): Promise<UserRow> {
    const passwordHash = await PasswordHasher.hash(input.password);
    const rows: UserRow[] = await m.query(
      `INSERT INTO intake.users (id, username, display_name, role, area_id, password_hash, active, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, true, clock_timestamp(), clock_timestamp())
       ON CONFLICT ((lower(username))) DO NOTHING
       RETURNING *`,
      [newId(), input.username, input.displayName, input.role, input.areaId ?? null, passwordHash],
    );
    if (!rows.length)
      throw new ApiError(HttpStatus.CONFLICT, 'USERNAME_TAKEN', 'Ya existe un usuario con ese nombre.');
    await this.audit.record(m, actor, {
      action: AUDIT.userCreated,
      targetId: rows[0].id,
      details: { role: input.role, areaId: input.areaId ?? null },
    });
    return rows[0];
  }

  async update(id: string, input: UpdateUserInput, actor: Actor): Promise<UserRow> {
    return this.dataSource.transaction(async (m) => {
      const [user]: UserRow[] = await m.query(`SELECT * FROM intake.users WHERE id = $1 FOR UPDATE`, [id]);
      if (!user) throw new ApiError(HttpStatus.NOT_FOUND, 'USER_NOT_FOUND', 'No existe ese usuario.');
      const passwordHash = input.password ? await PasswordHasher.hash(input.password) : user.password_hash;
      // TypeORM answers UPDATE … RETURNING with [rows, affectedCount].
      const [[updated]]: [UserRow[], number] = await m.query(
        `UPDATE intake.users SET display_name = $2, active = $3, password_hash = $4, updated_at = clock_timestamp()
         WHERE id = $1 RETURNING *`,
        [id, input.displayName ?? user.display_name, input.active ?? user.active, passwordHash],
      );
      if (input.active === false || input.password) {
        // Deactivated or password reset: every session of the user ends.
        await m.query(
          `UPDATE intake.refresh_tokens SET revoked_at = clock_timestamp() WHERE user_id = $1 AND revoked_at IS NULL`,
          [id],
        );
      }
      await this.audit.record(m, actor, {
        action: AUDIT.userUpdated,
        targetId: id,
        details: { changed: Object.keys(input) },
      });
      return updated;
    });
  }

  list(): Promise<UserRow[]> {
    return this.dataSource.query(`SELECT * FROM intake.users ORDER BY created_at`);
  }
}
