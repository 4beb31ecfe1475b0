import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@alerta-rosa/http';
import { SERVICE_RUNTIME, ServiceRuntime } from '@alerta-rosa/runtime';
import { createHash } from 'crypto';
import { DataSource, EntityManager } from 'typeorm';
import { IntakeConfig } from '../intake.config';

export interface StoredResponse<T = unknown> {
  status: number;
  body: T;
  /** True when this is the answer first given to an earlier request with the same key. */
  replayed: boolean;
}

const KEY_PATTERN = /^[\x21-\x7E]{1,200}$/;

/** Hash of what a request asks for: the same key with a different request is refused, not replayed. */
export function requestHash(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\u0000');
  return h.digest('hex');
}

/**
 * Idempotency-Key for POSTs. The key row is claimed inside the same transaction as the effect, so
 * a concurrent duplicate blocks on the unique key until the first commits, then replays its answer;
 * if the first fails (rollback), the key was never taken and the retry runs normally.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime<IntakeConfig>,
  ) {}

  static validateKey(key: string | undefined): string | undefined {
    if (key === undefined) return undefined;
    if (!KEY_PATTERN.test(key)) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'INVALID_IDEMPOTENCY_KEY',
        'El encabezado Idempotency-Key debe tener de 1 a 200 caracteres ASCII visibles.',
      );
    }
    return key;
  }

  async run<T>(
    actorId: string,
    key: string | undefined,
    scope: string,
    hash: string,
    work: (m: EntityManager) => Promise<{ status: number; body: T }>,
  ): Promise<StoredResponse<T>> {
    if (key === undefined) {
      const result = await this.dataSource.transaction(work);
      return { ...result, replayed: false };
    }
    return this.dataSource.transaction(async (m) => {
      const claimed: unknown[] = await m.query(
        `INSERT INTO intake.idempotency_keys (actor_id, key, scope, request_hash)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (actor_id, key) DO UPDATE
           SET scope = EXCLUDED.scope, request_hash = EXCLUDED.request_hash,
               response_status = NULL, response_body = NULL, created_at = clock_timestamp()
           WHERE idempotency_keys.created_at < clock_timestamp() - make_interval(hours => $5)
         RETURNING 1`,
        [actorId, key, scope, hash, this.runtime.config.IDEMPOTENCY_TTL_HOURS],
      );
      if (claimed.length === 1) {
        const result = await work(m);
        await m.query(
          `UPDATE intake.idempotency_keys SET response_status = $3, response_body = $4 WHERE actor_id = $1 AND key = $2`,
          [actorId, key, result.status, JSON.stringify(result.body)],
        );
        return { ...result, replayed: false };
      }
      const [row]: { scope: string; request_hash: string; response_status: number; response_body: T }[] =
        await m.query(
          `SELECT scope, request_hash, response_status, response_body FROM intake.idempotency_keys
           WHERE actor_id = $1 AND key = $2`,
          [actorId, key],
        );
      if (!row || row.scope !== scope || row.request_hash !== hash) {
        throw new ApiError(
          HttpStatus.UNPROCESSABLE_ENTITY,
          'IDEMPOTENCY_KEY_REUSED',
          'Esta Idempotency-Key ya se usó para otra solicitud; use una clave nueva.',
        );
      }
      return { status: row.response_status, body: row.response_body, replayed: true };
    });
  }
}
