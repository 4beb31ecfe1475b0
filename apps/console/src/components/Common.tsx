import { ReactNode } from 'react';
import { ApiError } from '../api/client';

export function Loading({ what = 'Cargando…' }: { what?: string }) {
  return (
    <p role="status" className="muted">
      {what}
    </p>
  );
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof ApiError ? error.message : 'No se pudo completar la operación.';
  return (
    <p role="alert" className="error-note">
      {message}
    </p>
  );
}

export function Badge({ tone, children }: { tone: string; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export function LiveIndicator({ status }: { status: 'connecting' | 'live' | 'offline' }) {
  const text = { connecting: 'Conectando…', live: 'En vivo', offline: 'Sin conexión en vivo (reintentando)' }[
    status
  ];
  return (
    <span className={`live live-${status}`} role="status" data-live={status}>
      <span aria-hidden="true" className="live-dot" /> {text}
    </span>
  );
}
