import { CurrentUser, Public } from '@alerta-rosa/auth';
import type { AuthenticatedUser } from '@alerta-rosa/auth';
import { ZodBodyPipe } from '@alerta-rosa/http';
import { Body, Controller, Get, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { z } from 'zod';
import { Actor, CurrentActor } from '../common/actor';
import { openApiSchema } from '../common/openapi';
import { loginSchema, logoutSchema, refreshSchema } from '../users/user.schemas';
import { SessionService } from './session.service';

@ApiTags('sesión')
@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly sessions: SessionService) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Inicia sesión: token de acceso (JWT, corto) y token de renovación (un solo uso)',
  })
  @ApiBody({ schema: openApiSchema(loginSchema) })
  async login(
    @Body(new ZodBodyPipe(loginSchema)) body: z.infer<typeof loginSchema>,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ) {
    res.setHeader('Cache-Control', 'no-store');
    return this.sessions.login(body.username, body.password, actor.ip);
  }

  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Renueva la sesión; el token de renovación usado deja de valer (reuso ⇒ se revoca la familia)',
  })
  @ApiBody({ schema: openApiSchema(refreshSchema) })
  async refresh(
    @Body(new ZodBodyPipe(refreshSchema)) body: z.infer<typeof refreshSchema>,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) res: Response,
  ) {
    res.setHeader('Cache-Control', 'no-store');
    return this.sessions.refresh(body.refreshToken, actor.ip);
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Cierra la sesión del token de renovación dado, o todas con all: true' })
  @ApiBody({ schema: openApiSchema(logoutSchema) })
  async logout(
    @Body(new ZodBodyPipe(logoutSchema)) body: z.infer<typeof logoutSchema>,
    @CurrentActor() actor: Actor,
  ) {
    await this.sessions.logout(actor, body.refreshToken, body.all ?? false);
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Quién soy (según el token)' })
  me(@CurrentUser() user: AuthenticatedUser) {
    return user;
  }
}
