import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { formatDateTime } from '../../lib/time';
import { TASK_STATE_LABELS } from '../../lib/labels';

interface LinkTask {
  taskId: string;
  folio: string;
  title: string;
  areaName: string;
  state: string;
  ackDueAt: string;
}

async function call<T>(method: string, token: string): Promise<T> {
  // Public, signed link: no session needed. GET shows the task, POST confirms (mail scanners only GET).
  const res = await fetch(`/api/v1/task-links/acknowledge?token=${encodeURIComponent(token)}`, {
    method,
    headers: { accept: 'application/json' },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((body as { message?: string }).message ?? 'El enlace no es válido.');
  return body as T;
}

/** Where the e-mail's acknowledge link lands: the task and one button. */
export function AckLinkPage() {
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const task = useQuery({
    queryKey: ['ack-link', token],
    queryFn: () => call<LinkTask>('GET', token),
    enabled: Boolean(token),
    retry: false,
  });
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await call<{ acknowledgedAt: string }>('POST', token);
      setDone(r.acknowledgedAt);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page narrow" aria-labelledby="ack-title">
      <h1 id="ack-title">Confirmar recepción de la tarea</h1>
      {!token && <p role="alert">Falta el código del enlace; ábralo desde el correo.</p>}
      {task.isPending && token && <p role="status">Cargando la tarea…</p>}
      {task.error && (
        <p role="alert" className="error-note">
          {(task.error as Error).message}
        </p>
      )}
      {task.data && (
        <div className="card" data-state={done ? 'acknowledged' : task.data.state}>
          <p>
            <strong>Alerta Rosa {task.data.folio}</strong>
          </p>
          <p>{task.data.areaName}</p>
          <p>Tarea: {task.data.title}</p>
          <p>Confirme antes de: {formatDateTime(task.data.ackDueAt)}</p>
          {done ? (
            <p role="status" className="success-note">
              Recepción confirmada ({formatDateTime(done)}). Gracias.
            </p>
          ) : task.data.state === 'assigned' ? (
            <button type="button" className="button big" onClick={() => void confirm()} disabled={busy}>
              Confirmar recepción
            </button>
          ) : (
            <p>
              Esta tarea ya no espera confirmación (estado:{' '}
              {TASK_STATE_LABELS[task.data.state] ?? task.data.state}).
            </p>
          )}
          {error && (
            <p role="alert" className="error-note">
              {error}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
