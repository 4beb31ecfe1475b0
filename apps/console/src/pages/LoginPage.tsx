import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { ApiError } from '../api/client';
import { homeOf, useSession } from '../api/session';

interface LoginForm {
  username: string;
  password: string;
}

export function LoginPage() {
  const { user, login } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [error, setError] = useState<string | null>(null);
  const {
    register,
    handleSubmit,
    formState: { errors, isSubmitting },
  } = useForm<LoginForm>();
  if (user) return <Navigate to={homeOf(user.role)} replace />;
  const from = (location.state as { from?: string } | null)?.from;

  const onSubmit = handleSubmit(async (v) => {
    setError(null);
    try {
      const u = await login(v.username, v.password);
      navigate(from && from !== '/ingresar' ? from : homeOf(u.role), { replace: true });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'No se pudo iniciar sesión; intente de nuevo.');
    }
  });

  return (
    <section className="page narrow" aria-labelledby="login-title">
      <h1 id="login-title">Iniciar sesión</h1>
      <p className="muted">Consola de la Alerta Rosa de la Secretaría de Seguridad Pública de Oaxaca.</p>
      <form onSubmit={onSubmit} noValidate className="card form">
        <div className="field">
          <label htmlFor="username">Usuario</label>
          <input
            id="username"
            autoComplete="username"
            autoCapitalize="none"
            aria-invalid={errors.username ? true : undefined}
            aria-describedby={errors.username ? 'username-error' : undefined}
            {...register('username', { required: 'Escriba su usuario' })}
          />
          {errors.username && (
            <p id="username-error" className="field-error">
              {errors.username.message}
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor="password">Contraseña</label>
          <input
            id="password"
            type="password"
            autoComplete="current-password"
            aria-invalid={errors.password ? true : undefined}
            aria-describedby={errors.password ? 'password-error' : undefined}
            {...register('password', { required: 'Escriba su contraseña' })}
          />
          {errors.password && (
            <p id="password-error" className="field-error">
              {errors.password.message}
            </p>
          )}
        </div>
        {error && (
          <p role="alert" className="error-note">
            {error}
          </p>
        )}
        <button type="submit" className="button" disabled={isSubmitting}>
          {isSubmitting ? 'Entrando…' : 'Entrar'}
        </button>
      </form>
    </section>
  );
}
