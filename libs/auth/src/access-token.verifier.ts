import { JwtService } from '@nestjs/jwt';
import { AccessClaims, AuthenticatedUser, ROLES } from './auth.types';

export const ACCESS_TOKEN_ISSUER = 'alerta-rosa';
export const ACCESS_TOKEN_AUDIENCE = 'alerta-rosa-api';

/**
 * Signs and verifies short-lived access tokens (HS256, shared secret AUTH_JWT_SECRET). Every service
 * verifies locally; only intake issues them (login/refresh).
 */
export class AccessTokenVerifier {
  private readonly jwt: JwtService;

  constructor(secret: string) {
    this.jwt = new JwtService({
      secret,
      signOptions: { algorithm: 'HS256' },
      verifyOptions: { algorithms: ['HS256'] },
    });
  }

  sign(claims: AccessClaims, ttlSeconds: number): string {
    return this.jwt.sign(
      {
        role: claims.role,
        ...(claims.areaId ? { areaId: claims.areaId } : {}),
        ...(claims.name ? { name: claims.name } : {}),
      },
      {
        subject: claims.sub,
        expiresIn: ttlSeconds,
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
      },
    );
  }

  /** The user a token stands for, or null when it is missing, forged, expired or malformed. */
  verify(token: string): AuthenticatedUser | null {
    try {
      const payload = this.jwt.verify<AccessClaims & { iss: string; aud: string }>(token, {
        issuer: ACCESS_TOKEN_ISSUER,
        audience: ACCESS_TOKEN_AUDIENCE,
      });
      if (!payload.sub || !(ROLES as readonly string[]).includes(payload.role)) return null;
      if (payload.role === 'area' && !payload.areaId) return null;
      return { id: payload.sub, role: payload.role, areaId: payload.areaId ?? null };
    } catch {
      return null;
    }
  }
}
