import { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { SessionUser } from '../api/client';
import { homeOf, useSession } from '../api/session';

/** A screen for some roles only: others see why and a way back (the API refuses them too). */
export function RequireRole({ roles, children }: { roles: SessionUser['role'][]; children: ReactNode }) {
  const { user } = useSession();
  const location = useLocation();
  if (!user) return <Navigate to="/ingresar" replace state={{ from: location.pathname + location.search }} />;
  if (!roles.includes(user.role)) {
    return (
      <section className="page" aria-labelledby="forbidden-title">
        <h1 id="forbidden-title">Sin permiso</h1>
        <p>Su rol no tiene acceso a esta pantalla.</p>
        <p>
          <a href={homeOf(user.role)}>Ir a su pantalla de inicio</a>
        </p>
      </section>
    );
  }
  return <>{children}</>;
}
