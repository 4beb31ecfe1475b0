import { Roles } from '@alerta-rosa/auth';
import { ZodBodyPipe } from '@alerta-rosa/http';
import { Body, Controller, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { uuidPipe } from '../alerts/alert.controller';
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
    private readonly dataSource: DataSource,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Crea un usuario (operadora, area con areaId, comite, admin)' })
  @ApiBody({ schema: openApiSchema(createUserSchema) })
  async create(@Body(new ZodBodyPipe(createUserSchema)) body: CreateUserInput, @CurrentActor() actor: Actor) {
    return presentUser(await this.dataSource.transaction((m) => this.users.create(m, body, actor)));
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
