import { Roles } from '@alerta-rosa/auth';
import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { validationFailed } from '../common/errors';

const auditQuerySchema = z
  .object({
    alertId: z.string().uuid().optional(),
    actorId: z.string().min(1).max(100).optional(),
    action: z
      .string()
      .regex(/^[a-z.]{3,60}$/)
      .optional(),
    since: z.string().datetime({ offset: true }).optional(),
    until: z.string().datetime({ offset: true }).optional(),
    /** Cursor: entries with a smaller id (older). */
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

/** The audit log, newest first: who did what, when, from where. Read-only for admin and comité. */
@ApiTags('bitácora')
@ApiBearerAuth()
@Roles('admin', 'comite')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly dataSource: DataSource) {}

  @Get()
  @ApiOperation({
    summary: 'Consulta la bitácora (filtros: alertId, actorId, action, since, until; paginación con before)',
  })
  @ApiQuery({ name: 'alertId', required: false })
  @ApiQuery({ name: 'actorId', required: false })
  @ApiQuery({ name: 'action', required: false })
  @ApiQuery({ name: 'since', required: false })
  @ApiQuery({ name: 'until', required: false })
  @ApiQuery({ name: 'before', required: false })
  @ApiQuery({ name: 'limit', required: false })
  async list(@Query() query: Record<string, unknown>) {
    const parsed = auditQuerySchema.safeParse(query);
    if (!parsed.success) {
      throw validationFailed(
        parsed.error.issues.map((i) => ({
          path: i.code === 'unrecognized_keys' ? i.keys.join(',') : i.path.join('.'),
          code: i.code,
          message: 'Parámetro inválido',
        })),
      );
    }
    const q = parsed.data;
    const rows: {
      id: string;
      at: Date;
      actor_id: string | null;
      actor_role: string | null;
      ip: string | null;
      action: string;
      alert_id: string | null;
      target_id: string | null;
      details: unknown;
    }[] = await this.dataSource.query(
      `SELECT * FROM intake.audit_log
       WHERE ($1::uuid IS NULL OR alert_id = $1::uuid)
         AND ($2::text IS NULL OR actor_id = $2)
         AND ($3::text IS NULL OR action = $3)
         AND ($4::timestamptz IS NULL OR at >= $4)
         AND ($5::timestamptz IS NULL OR at < $5)
         AND ($6::bigint IS NULL OR id < $6)
       ORDER BY id DESC LIMIT $7`,
      [
        q.alertId ?? null,
        q.actorId ?? null,
        q.action ?? null,
        q.since ?? null,
        q.until ?? null,
        q.before ?? null,
        q.limit,
      ],
    );
    const items = rows.map((r) => ({
      id: Number(r.id),
      at: new Date(r.at).toISOString(),
      actorId: r.actor_id,
      actorRole: r.actor_role,
      ip: r.ip,
      action: r.action,
      alertId: r.alert_id,
      targetId: r.target_id,
      details: r.details,
    }));
    return { items, nextBefore: items.length === q.limit ? items[items.length - 1].id : null };
  }
}
