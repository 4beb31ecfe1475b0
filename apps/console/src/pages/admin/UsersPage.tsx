import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { ApiError, api, apiOptional } from '../../api/client';
import { newIdempotencyKey } from '../../api/alerts';
import { useCoalescedRefetch } from '../../api/refetch';
import { Badge, ErrorNote, Loading } from '../../components/Common';
import { ROLE_LABELS } from '../../lib/labels';
import { formatDateTime } from '../../lib/time';

interface User {
  id: string;
  username: string;
  displayName: string;
  role: string;
  areaId: string | null;
  active: boolean;
  createdAt: string;
}

interface NewUser {
  username: string;
  displayName: string;
  role: string;
  areaId: string;
  password: string;
}

/** Users and roles: create, deactivate/reactivate, reset a password (each ends the user's sessions). */
export default function UsersPage() {
  const users = useQuery({ queryKey: ['users'], queryFn: () => api<{ items: User[] }>('/api/v1/users') });
  const areas = useQuery({
    queryKey: ['areas'],
    queryFn: () => apiOptional<{ areas: { id: string; name: string }[] }>('/api/v1/areas'),
  });
  const refetch = useCoalescedRefetch();
  const [actionError, setActionError] = useState<unknown>(null);
  const {
    register,
    handleSubmit,
    watch,
    reset,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<NewUser>({ defaultValues: { role: 'operadora', areaId: '' } });
  const [created, setCreated] = useState<string | null>(null);
  const role = watch('role');

  const onSubmit = handleSubmit(async (v) => {
    setCreated(null);
    try {
      const u = await api<User>('/api/v1/users', {
        method: 'POST',
        headers: { 'idempotency-key': newIdempotencyKey() },
        body: {
          username: v.username,
          displayName: v.displayName,
          role: v.role,
          ...(v.role === 'area' ? { areaId: v.areaId } : {}),
          password: v.password,
        },
      });
      setCreated(u.username);
      reset({ role: 'operadora', areaId: '', username: '', displayName: '', password: '' });
      await refetch(['users']);
    } catch (err) {
      if (err instanceof ApiError && err.fields.length) {
        for (const f of err.fields) setError(f.path as keyof NewUser, { type: 'server', message: f.message });
      } else if (err instanceof ApiError) setError('username', { type: 'server', message: err.message });
    }
  });

  const patch = async (id: string, body: Record<string, unknown>) => {
    setActionError(null);
    try {
      await api(`/api/v1/users/${id}`, { method: 'PATCH', body });
      await refetch(['users']);
    } catch (err) {
      setActionError(err);
    }
  };

  const field = (name: keyof NewUser, label: string, type = 'text') => (
    <div className="field">
      <label htmlFor={`u-${name}`}>{label}</label>
      <input
        id={`u-${name}`}
        type={type}
        aria-invalid={errors[name] ? true : undefined}
        aria-describedby={errors[name] ? `u-${name}-error` : undefined}
        autoComplete={type === 'password' ? 'new-password' : 'off'}
        {...register(name, { required: 'Obligatorio' })}
      />
      {errors[name] && (
        <p id={`u-${name}-error`} className="field-error">
          {errors[name]?.message}
        </p>
      )}
    </div>
  );

  return (
    <section className="page" aria-labelledby="users-title">
      <h1 id="users-title">Usuarios y roles</h1>
      <form className="card form" onSubmit={onSubmit} noValidate aria-labelledby="new-user-title">
        <h2 id="new-user-title">Nuevo usuario</h2>
        <div className="grid">
          {field('username', 'Usuario')}
          {field('displayName', 'Nombre')}
          <div className="field">
            <label htmlFor="u-role">Rol</label>
            <select id="u-role" {...register('role')}>
              {Object.entries(ROLE_LABELS).map(([k, v]) => (
                <option key={k} value={k}>
                  {v}
                </option>
              ))}
            </select>
          </div>
          {role === 'area' && (
            <div className="field">
              <label htmlFor="u-areaId">Área</label>
              <select id="u-areaId" {...register('areaId', { required: 'Elija el área' })}>
                <option value="">Elija…</option>
                {(areas.data?.areas ?? []).map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.name}
                  </option>
                ))}
              </select>
              {errors.areaId && <p className="field-error">{errors.areaId.message}</p>}
            </div>
          )}
          {field('password', 'Contraseña inicial (12 caracteres o más)', 'password')}
        </div>
        <button type="submit" className="button" disabled={isSubmitting}>
          Crear usuario
        </button>
        {created && (
          <p role="status" className="success-note">
            Usuario «{created}» creado.
          </p>
        )}
      </form>
      {users.isPending && <Loading />}
      <ErrorNote error={users.error ?? actionError} />
      <div className="table-wrap">
        <table className="table">
          <caption>Usuarios</caption>
          <thead>
            <tr>
              <th scope="col">Usuario</th>
              <th scope="col">Nombre</th>
              <th scope="col">Rol</th>
              <th scope="col">Estado</th>
              <th scope="col">Alta</th>
              <th scope="col">Acciones</th>
            </tr>
          </thead>
          <tbody>
            {(users.data?.items ?? []).map((u) => (
              <tr key={u.id} data-user={u.username}>
                <td>{u.username}</td>
                <td>{u.displayName}</td>
                <td>
                  {ROLE_LABELS[u.role] ?? u.role}
                  {u.areaId ? ` · ${u.areaId}` : ''}
                </td>
                <td>
                  {u.active ? <Badge tone="posted">activo</Badge> : <Badge tone="cancelled">inactivo</Badge>}
                </td>
                <td>{formatDateTime(u.createdAt)}</td>
                <td className="row-actions">
                  <button
                    type="button"
                    className="button secondary small"
                    onClick={() => void patch(u.id, { active: !u.active })}
                  >
                    {u.active ? 'Desactivar' : 'Reactivar'}
                    <span className="visually-hidden"> a {u.username}</span>
                  </button>
                  <button
                    type="button"
                    className="button secondary small"
                    onClick={() => {
                      const password = window.prompt(
                        `Nueva contraseña para ${u.username} (12 caracteres o más)`,
                      );
                      if (password) void patch(u.id, { password });
                    }}
                  >
                    Restablecer contraseña<span className="visually-hidden"> de {u.username}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
