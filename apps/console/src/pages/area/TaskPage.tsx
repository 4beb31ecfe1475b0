import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { Link, useParams } from 'react-router';
import { api } from '../../api/client';
import { useLiveEvents } from '../../api/live';
import { useCoalescedRefetch } from '../../api/refetch';
import { Alert, TaskDetail } from '../../api/types';
import { Badge, ErrorNote, LiveIndicator, Loading } from '../../components/Common';
import { ESCALATION_LABELS, TASK_STATE_LABELS } from '../../lib/labels';
import { formatDateTime } from '../../lib/time';

/** One task of the area: acknowledge, report progress, complete. */
export function TaskPage() {
  const { taskId = '' } = useParams();
  const task = useQuery({
    queryKey: ['task', taskId],
    queryFn: () => api<TaskDetail>(`/api/v1/tasks/${taskId}`),
  });
  const alertId = task.data?.alertId;
  const alert = useQuery({
    queryKey: ['alert-public', alertId],
    queryFn: () => api<Alert>(`/api/v1/alerts/${alertId}`),
    enabled: Boolean(alertId),
  });
  const refetch = useCoalescedRefetch();
  const live = useLiveEvents(
    null,
    (e) => {
      if (e.topic === 'tasks.v1' && e.data.taskId === taskId) void refetch(['task', taskId]);
      if (e.topic === 'alerts.v1' && e.alertId === alertId) void refetch(['alert-public', alertId]);
    },
    () => void refetch(['task', taskId]),
  );
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { register, handleSubmit, reset } = useForm<{ text: string }>();

  const act = async (path: string, body?: unknown) => {
    setBusy(true);
    setError(null);
    try {
      await api(`/api/v1/tasks/${taskId}/${path}`, { method: 'POST', body });
      await refetch(['task', taskId]);
      return true;
    } catch (err) {
      setError(err);
      return false;
    } finally {
      setBusy(false);
    }
  };

  if (task.isPending) return <Loading />;
  if (task.error) return <ErrorNote error={task.error} />;
  const t = task.data;
  const a = alert.data;
  return (
    <article className="page narrow" aria-labelledby="task-title" data-state={t.state}>
      <p>
        <Link to="/bandeja">← Bandeja</Link>
      </p>
      <div className="page-head">
        <h1 id="task-title">
          {t.folio} · {t.title}
        </h1>
        <LiveIndicator status={live} />
      </div>
      <p>
        <Badge tone={t.state}>{TASK_STATE_LABELS[t.state]}</Badge> {t.areaName}
      </p>
      {a && (
        <div className="card">
          {a.ficha.photoUrl && (
            <img
              src={a.ficha.photoUrl}
              alt={a.ficha.photoAltText ?? `Fotografía de ${a.ficha.fullName}`}
              className="ficha-photo"
            />
          )}
          <p>
            <strong>{a.ficha.fullName}</strong>, {a.ficha.age} años · {a.ficha.municipalityName}
          </p>
          <p className="small">Última vez vista: {formatDateTime(a.ficha.lastSeenAt)}</p>
          {a.ficha.clothing && <p className="small">Vestimenta: {a.ficha.clothing}</p>}
        </div>
      )}
      <section className="section">
        <h2>Instrucciones</h2>
        <p className="instructions">{t.instructions}</p>
        <p className="small">
          Acuse antes de {formatDateTime(t.ackDueAt)} · concluir antes de {formatDateTime(t.completeDueAt)}
        </p>
        {t.escalations
          .filter((e) => e.escalatedAt)
          .map((e) => (
            <p key={e.level} className="escalation small">
              Escalada a {ESCALATION_LABELS[e.target] ?? e.target} ({formatDateTime(e.escalatedAt)})
            </p>
          ))}
      </section>
      <div className="actions">
        {t.state === 'assigned' && (
          <button
            type="button"
            className="button big"
            disabled={busy}
            onClick={() => void act('acknowledge')}
          >
            Confirmar recepción
          </button>
        )}
        {(t.state === 'acknowledged' || t.state === 'in_progress') && (
          <button type="button" className="button" disabled={busy} onClick={() => void act('complete')}>
            Marcar como concluida
          </button>
        )}
      </div>
      <ErrorNote error={error} />
      {(t.state === 'acknowledged' || t.state === 'in_progress') && (
        <form
          className="card form"
          onSubmit={handleSubmit(async (v) => {
            if (await act('notes', { text: v.text })) reset();
          })}
        >
          <div className="field">
            <label htmlFor="note">Nota de avance</label>
            <textarea id="note" rows={3} {...register('text', { required: true })} />
          </div>
          <button type="submit" className="button secondary" disabled={busy}>
            Registrar avance
          </button>
        </form>
      )}
      {t.notes.length > 0 && (
        <section className="section">
          <h2>Avances</h2>
          <ol className="timeline">
            {t.notes.map((n) => (
              <li key={n.id}>
                <time dateTime={n.createdAt}>{formatDateTime(n.createdAt)}</time> {n.text}
              </li>
            ))}
          </ol>
        </section>
      )}
    </article>
  );
}
