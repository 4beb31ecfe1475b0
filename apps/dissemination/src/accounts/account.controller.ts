import { PLATFORMS } from '@alerta-rosa/contracts';
import { Roles } from '@alerta-rosa/auth';
import { ApiError, ZodBodyPipe, conflict, notFound } from '@alerta-rosa/http';
import { Body, Controller, Get, HttpCode, HttpStatus, Param, Patch, Post, Put } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { PendingDispatcher } from '../publishing/pending.dispatcher';
import { AccountRegistry, presentAccount } from './account.registry';
import { accountDefinitionSchema, checkHandle, rateLimitPolicySchema } from './accounts.catalog';

const addAccountSchema = accountDefinitionSchema
  .extend({
    credentials: z.record(z.string(), z.string()).optional(),
  })
  .superRefine(checkHandle);
const patchAccountSchema = z
  .object({
    enabled: z.boolean().optional(),
    displayName: z.string().min(1).max(200).optional(),
    ownerArea: z.string().min(1).max(100).optional(),
    regions: z.array(z.string().min(1)).optional(),
    rateLimit: rateLimitPolicySchema.optional(),
  })
  .strict();
const credentialsSchema = z.object({ credentials: z.record(z.string(), z.unknown()) }).strict();

/** Account registry administration (Administrador): list, add, enable/disable, rotate credentials. */
@Controller('api/v1/accounts')
@Roles('admin')
export class AccountController {
  constructor(
    private readonly registry: AccountRegistry,
    private readonly dispatcher: PendingDispatcher,
    private readonly db: DataSource,
  ) {}

  @Get()
  async list() {
    return { accounts: (await this.registry.list()).map(presentAccount) };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    const row = await this.registry.get(id);
    if (!row) throw notFound('ACCOUNT_NOT_FOUND', 'La cuenta no existe.');
    return presentAccount(row);
  }

  @Post()
  @HttpCode(201)
  async add(@Body(new ZodBodyPipe(addAccountSchema)) body: z.infer<typeof addAccountSchema>) {
    const credentials = body.credentials ? this.checkCredentials(body.platform, body.credentials) : null;
    await this.db.transaction(async (m) => {
      const inserted = await m.query(
        `INSERT INTO dissemination.accounts
           (id, platform, handle, display_name, owner_area, regions, enabled, rate_limit_max, rate_limit_duration_ms, concurrency)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [
          body.id,
          body.platform,
          body.handle,
          body.displayName,
          body.ownerArea,
          body.regions,
          body.enabled,
          body.rateLimit.max,
          body.rateLimit.durationMs,
          body.rateLimit.concurrency,
        ],
      );
      if (!inserted.length) throw conflict('ACCOUNT_EXISTS', 'Ya existe una cuenta con ese identificador.');
      if (credentials) await this.registry.setCredentials(body.id, credentials, m);
      await this.registry.catchUpActiveAlerts(body.id, m); // a new official account gets the active fichas
    });
    await this.dispatcher.refreshAccounts();
    return this.get(body.id);
  }

  @Patch(':id')
  async update(
    @Param('id') id: string,
    @Body(new ZodBodyPipe(patchAccountSchema)) body: z.infer<typeof patchAccountSchema>,
  ) {
    const row = await this.registry.get(id);
    if (!row) throw notFound('ACCOUNT_NOT_FOUND', 'La cuenta no existe.');
    const enabled = body.enabled ?? row.enabled;
    // One transaction: an account re-enabled is never left without its catch-up (a crash in between).
    await this.db.transaction(async (m) => {
      await m.query(
        `UPDATE dissemination.accounts SET enabled = $2, display_name = $3, owner_area = $4, regions = $5,
              rate_limit_max = $6, rate_limit_duration_ms = $7, concurrency = $8, updated_at = clock_timestamp()
        WHERE id = $1`,
        [
          id,
          enabled,
          body.displayName ?? row.display_name,
          body.ownerArea ?? row.owner_area,
          body.regions ?? row.regions,
          body.rateLimit?.max ?? row.rate_limit_max,
          body.rateLimit?.durationMs ?? row.rate_limit_duration_ms,
          body.rateLimit?.concurrency ?? row.concurrency,
        ],
      );
      if (enabled) await this.registry.catchUpActiveAlerts(id, m);
    });
    await this.dispatcher.refreshAccounts();
    return this.get(id);
  }

  /** Rotates the account's credentials (re-encrypted under the current key) and clears a revoked status. */
  @Put(':id/credentials')
  async rotate(
    @Param('id') id: string,
    @Body(new ZodBodyPipe(credentialsSchema)) body: z.infer<typeof credentialsSchema>,
  ) {
    const row = await this.registry.get(id);
    if (!row) throw notFound('ACCOUNT_NOT_FOUND', 'La cuenta no existe.');
    const credentials = this.checkCredentials(row.platform, body.credentials);
    await this.db.transaction(async (m) => {
      await this.registry.setCredentials(id, credentials, m);
      await this.registry.catchUpActiveAlerts(id, m);
    });
    await this.dispatcher.refreshAccounts();
    return this.get(id);
  }

  private checkCredentials(
    platform: (typeof PLATFORMS)[number],
    credentials: unknown,
  ): Record<string, string> {
    const parsed = this.registry.validateCredentialsSafe(platform, credentials);
    if (!parsed) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'INVALID_CREDENTIALS',
        'Las credenciales no tienen el formato de la plataforma.',
      );
    }
    return parsed;
  }
}
