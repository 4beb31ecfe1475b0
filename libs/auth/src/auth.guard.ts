import {
  CanActivate,
  ExecutionContext,
  HttpException,
  HttpStatus,
  Injectable,
  SetMetadata,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessTokenVerifier } from './access-token.verifier';
import { AuthenticatedUser, Role } from './auth.types';

const ROLES_KEY = 'alerta-rosa:roles';
const PUBLIC_KEY = 'alerta-rosa:public';

/** Roles allowed on a handler or controller. Without it, any authenticated user passes. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);

/** Marks an endpoint that needs no token (health, login, signed one-click links). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthenticatedUser => ctx.switchToHttp().getRequest().user,
);

/**
 * Global guard: every HTTP endpoint needs a valid bearer token unless marked @Public(), and the
 * token's role must be one of the handler's @Roles(). Errors carry stable codes.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = context.switchToHttp().getRequest();
    const header: string | undefined = req.headers?.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const user = token ? this.verifier.verify(token) : null;
    if (!user) {
      throw new HttpException(
        {
          code: 'UNAUTHENTICATED',
          message: 'Se requiere iniciar sesión (token ausente, inválido o vencido).',
        },
        HttpStatus.UNAUTHORIZED,
      );
    }
    req.user = user;
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !roles.includes(user.role)) {
      throw new HttpException(
        { code: 'FORBIDDEN', message: 'Su rol no tiene permiso para esta acción.' },
        HttpStatus.FORBIDDEN,
      );
    }
    return true;
  }
}
