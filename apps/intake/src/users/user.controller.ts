import { Roles } from '@alerta-rosa/auth';
import { ZodBodyPipe } from '@alerta-rosa/http';
import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { reply, uuidPipe } from '../alerts/alert.controller';
import { IdempotencyService, requestHash } from '../idempotency/idempotency.service';
import { Actor, CurrentActor } from '../common/actor';
import { openApiSchema } from '../common/openapi';
import { CreateUserInput, UpdateUserInput, createUserSchema, updateUserSchema } from './user.schemas';
import { UserService, presentUser } from './user.service';

@ApiTags('usuarios')
@ApiBearerAuth()
@Roles('admin')
@Controller('api/v1/users')
export class UserController {
  constructor(
    private readonly users: UserService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Crea un usuario (operadora, area con areaId, comite, admin)' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiBody({ schema: openApiSchema(createUserSchema) })
  async create(
    @Body(new ZodBodyPipe(createUserSchema)) body: CreateUserInput,
    @CurrentActor() actor: Actor,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const result = await this.idempotency.run(
      actor.id ?? 'anonymous',
      IdempotencyService.validateKey(key),
      'POST /api/v1/users',
      requestHash('POST /api/v1/users', JSON.stringify(body)),
      async (m) => ({ status: 201, body: presentUser(await this.users.create(m, body, actor)) }),
    );
    return reply(res, result);
  }

  @Get()
  @ApiOperation({ summary: 'Lista los usuarios' })
  async list() {
    return { items: (await this.users.list()).map(presentUser) };
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Desactiva, renombra o cambia la contraseña (cierra sus sesiones)' })
  @ApiBody({ schema: openApiSchema(updateUserSchema) })
  async update(
    @Param('id', uuidPipe) id: string,
    @Body(new ZodBodyPipe(updateUserSchema)) body: UpdateUserInput,
    @CurrentActor() actor: Actor,
  ) {
    return presentUser(await this.users.update(id, body, actor));
  }
}
