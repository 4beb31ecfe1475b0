/** Roles of the system (DOMAIN.md «People and their jobs»). */
export const ROLES = ['operadora', 'area', 'comite', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Claims of an access token. `areaId` is present exactly when role is `area`. */
export interface AccessClaims {
  sub: string;
  role: Role;
  areaId?: string;
  /** Display name for audit trails (not a secret, never logged). */
  name?: string;
}

export interface AuthenticatedUser {
  id: string;
  role: Role;
  areaId: string | null;
}
