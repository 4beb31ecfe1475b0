import { NavLink, Outlet, useNavigate } from 'react-router';
import { useSession } from '../api/session';
import { ROLE_LABELS } from '../lib/labels';

const NAV: Record<string, { to: string; label: string }[]> = {
  operadora: [
    { to: '/alertas', label: 'Alertas' },
    { to: '/alertas/nueva', label: 'Nueva alerta' },
  ],
  area: [{ to: '/bandeja', label: 'Bandeja del área' }],
  comite: [
    { to: '/comite', label: 'Alertas' },
    { to: '/comite/periodo', label: 'Periodo' },
  ],
  admin: [
    { to: '/alertas', label: 'Alertas' },
    { to: '/comite', label: 'Comité' },
    { to: '/admin/usuarios', label: 'Usuarios' },
    { to: '/admin/cuentas', label: 'Cuentas' },
    { to: '/admin/directorio', label: 'Directorio' },
    { to: '/admin/pso', label: 'PSO' },
    { to: '/admin/mensajes-fallidos', label: 'Mensajes fallidos' },
  ],
};

export function Layout() {
  const { user, logout } = useSession();
  const navigate = useNavigate();
  return (
    <>
      <a className="skip-link" href="#contenido">
        Saltar al contenido
      </a>
      <header className="app-header">
        <div className="brand">
          <span aria-hidden="true" className="brand-mark" />
          Alerta Rosa <span className="brand-sub">SSP Oaxaca</span>
        </div>
        {user && (
          <nav aria-label="Principal" className="main-nav">
            <ul>
              {NAV[user.role].map((item) => (
                <li key={item.to}>
                  <NavLink to={item.to} end>
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {user && (
          <div className="session">
            <span className="session-user">
              {user.displayName} <span className="muted">· {ROLE_LABELS[user.role]}</span>
            </span>
            <button
              type="button"
              className="button secondary small"
              onClick={() => void logout().then(() => navigate('/ingresar'))}
            >
              Cerrar sesión
            </button>
          </div>
        )}
      </header>
      <main id="contenido" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
