import { AccessTokenVerifier } from '@alerta-rosa/auth';
import { newId } from '@alerta-rosa/contracts';
import { ApiError } from '@alerta-rosa/http';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AUDIT, AuditLog } from '../audit/audit.log';
import { Actor } from '../common/actor';
import { IntakeConfig } from '../intake.config';
import { PasswordHasher, dummyPasswordHash } from '../users/password.hasher';
import { UserRow, presentUser } from '../users/user.service';

export interface Session {
  tokenType: 'Bearer';
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
  user: ReturnType<typeof presentUser>;
}

const badCredentials = () =>
  new ApiError(HttpStatus.UNAUTHORIZED, 'INVALID_CREDENTIALS', 'Usuario o contraseña incorrectos.');
const badRefresh = () =>
  new ApiError(
    HttpStatus.UNAUTHORIZED,
    'INVALID_REFRESH_TOKEN',
    'La sesión no es válida o venció; inicie sesión de nuevo.',
  );

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Login, refresh and logout. Access tokens are short-lived JWTs; refresh tokens are opaque, stored
 * only as SHA-256 hashes, single-use and rotated: presenting a used one means it was stolen (or
 * replayed), so its whole family — every token descended from that login — is revoked.
 */
@Injectable()
export class SessionService {
  private readonly signer: AccessTokenVerifier;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditLog,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<IntakeConfig>,
  ) {
    this.signer = new AccessTokenVerifier(runtime.config.AUTH_JWT_SECRET);
  }

  async login(username: string, password: string, ip: string | null): Promise<Session> {
    await this.throttle(username, ip);
    const [user]: UserRow[] = await this.dataSource.query(
      `SELECT * FROM intake.users WHERE lower(username) = lower($1)`,
      [username],
    );
    const ok = await PasswordHasher.verify(user?.password_hash ?? (await dummyPasswordHash()), password);
    const succeeded = Boolean(user && user.active && ok);
    const anonymous: Actor = {
      id: user?.id ?? null,
      role: user?.role ?? null,
      areaId: user?.area_id ?? null,
      ip,
    };
    await this.dataSource.transaction(async (m) => {
      await m.query(`INSERT INTO intake.login_attempts (ip, username, succeeded) VALUES ($1, $2, $3)`, [
        ip ?? 'unknown',
        username.toLowerCase(),
        succeeded,
      ]);
      await this.audit.record(m, anonymous, {
        action: succeeded ? AUDIT.loginSucceeded : AUDIT.loginFailed,
        targetId: user?.id ?? null,
        details: succeeded
          ? {}
          : { reason: !user ? 'unknown_user' : !user.active ? 'inactive' : 'bad_password' },
      });
    });
    if (!succeeded) throw badCredentials();
    return this.dataSource.transaction((m) => this.issue(m, user, newId()));
  }

  async refresh(refreshToken: string, ip: string | null): Promise<Session> {
    const outcome = await this.dataSource.transaction(async (m) => {
      const [row]: {
        id: string;
        family_id: string;
        user_id: string;
        expires_at: Date;
        used_at: Date | null;
        revoked_at: Date | null;
      }[] = await m.query(`SELECT * FROM intake.refresh_tokens WHERE token_hash = $1 FOR UPDATE`, [
        hashToken(refreshToken),
      ]);
      if (!row) return { error: badRefresh() };
      if (row.used_at || row.revoked_at) {
        if (row.used_at) {
          // Reuse of a rotated token: whoever holds the family is not to be trusted any more.
          await m.query(
            `UPDATE intake.refresh_tokens SET revoked_at = clock_timestamp() WHERE family_id = $1 AND revoked_at IS NULL`,
            [row.family_id],
          );
          await this.audit.record(
            m,
            { id: row.user_id, role: null, areaId: null, ip },
            {
              action: AUDIT.refreshReused,
              targetId: row.user_id,
              details: { familyId: row.family_id },
            },
          );
        }
        return { error: badRefresh() };
      }
      if (new Date(row.expires_at).getTime() <= Date.now()) return { error: badRefresh() };
      const [user]: UserRow[] = await m.query(`SELECT * FROM intake.users WHERE id = $1`, [row.user_id]);
      if (!user?.active) return { error: badRefresh() };
      await m.query(`UPDATE intake.refresh_tokens SET used_at = clock_timestamp() WHERE id = $1`, [row.id]);
      return { session: await this.issue(m, user, row.family_id) };
    });
    // The revocation must commit even though the caller gets an error.
    if ('error' in outcome) throw outcome.error;
    return outcome.session;
  }

  /** Ends one session (the family of the given refresh token) or, with `all`, every session of the user. */
  async logout(actor: Actor, refreshToken: string | undefined, all: boolean): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      if (all) {
        await m.query(
          `UPDATE intake.refresh_tokens SET revoked_at = clock_timestamp() WHERE user_id = $1 AND revoked_at IS NULL`,
          [actor.id],
        );
      } else if (refreshToken) {
        await m.query(
          `UPDATE intake.refresh_tokens SET revoked_at = clock_timestamp()
           WHERE revoked_at IS NULL AND family_id = (SELECT family_id FROM intake.refresh_tokens WHERE token_hash = $1 AND user_id = $2)`,
          [hashToken(refreshToken), actor.id],
        );
      }
      await this.audit.record(m, actor, { action: AUDIT.logout, targetId: actor.id, details: { all } });
    });
  }

  private async issue(m: EntityManager, user: UserRow, familyId: string): Promise<Session> {
    const { ACCESS_TOKEN_TTL_SECONDS: accessTtl, REFRESH_TOKEN_TTL_SECONDS: refreshTtl } =
      this.runtime.config;
    const refreshToken = `${randomBytes(32).toString('base64url')}`;
    await m.query(
      `INSERT INTO intake.refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at)
       VALUES ($1, $2, $3, $4, clock_timestamp(), clock_timestamp() + make_interval(secs => $5))`,
      [newId(), familyId, user.id, hashToken(refreshToken), refreshTtl],
    );
    const accessToken = this.signer.sign(
      { sub: user.id, role: user.role, ...(user.area_id ? { areaId: user.area_id } : {}) },
      accessTtl,
    );
    return {
      tokenType: 'Bearer',
      accessToken,
      expiresIn: accessTtl,
      refreshToken,
      refreshExpiresIn: refreshTtl,
      user: presentUser(user),
    };
  }

  /** Too many attempts from one IP, or too many failures for one username, within the window: 429. */
  private async throttle(username: string, ip: string | null): Promise<void> {
    const { LOGIN_MAX_ATTEMPTS_PER_IP, LOGIN_MAX_FAILURES_PER_USER, LOGIN_WINDOW_SECONDS } =
      this.runtime.config;
    const [counts]: { by_ip: string; failures: string }[] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE ip = $1) AS by_ip,
              count(*) FILTER (WHERE username = $2 AND NOT succeeded) AS failures
       FROM intake.login_attempts WHERE at > clock_timestamp() - make_interval(secs => $3)`,
      [ip ?? 'unknown', username.toLowerCase(), LOGIN_WINDOW_SECONDS],
    );
    if (
      Number(counts.by_ip) >= LOGIN_MAX_ATTEMPTS_PER_IP ||
      Number(counts.failures) >= LOGIN_MAX_FAILURES_PER_USER
    ) {
      throw new ApiError(
        HttpStatus.TOO_MANY_REQUESTS,
        'TOO_MANY_LOGIN_ATTEMPTS',
        'Demasiados intentos de inicio de sesión; espere unos minutos e intente de nuevo.',
      );
    }
  }
}
