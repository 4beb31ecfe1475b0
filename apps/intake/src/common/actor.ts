import { AuthenticatedUser, Role } from '@alerta-rosa/auth';
import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { Request } from 'express';

/** Who did something and from where: what the audit log records for every change and private read. */
export interface Actor {
  id: string | null;
  role: Role | null;
  areaId: string | null;
  ip: string | null;
}

export function actorOf(req: Request): Actor {
  const user = (req as Request & { user?: AuthenticatedUser }).user;
  return { id: user?.id ?? null, role: user?.role ?? null, areaId: user?.areaId ?? null, ip: req.ip ?? null };
}

/** The authenticated user plus the client IP (Express `req.ip`, honouring TRUST_PROXY). */
export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor =>
  actorOf(ctx.switchToHttp().getRequest<Request>()),
);
