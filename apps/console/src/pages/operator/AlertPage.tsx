import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { AlertWithEtag, fetchAlert, writeAlert } from '../../api/alerts';
import { ApiError, api, apiOptional } from '../../api/client';
import { LiveEvent, useLiveEvents } from '../../api/live';
import { useCoalescedRefetch, useRefetchUntil } from '../../api/refetch';
import { useSession } from '../../api/session';
import { Alert, Closure, PrivateFicha, Publications, Task, Timeline } from '../../api/types';
import { Badge, ErrorNote, LiveIndicator, Loading } from '../../components/Common';
import { FichaForm, fichaFromAlert } from '../../components/FichaForm';
import {
  ALERT_STATUS_LABELS,
  ESCALATION_LABELS,
  FAILURE_LABELS,
  OUTCOME_LABELS,
  PLATFORM_LABELS,
  TASK_STATE_LABELS,
  TILE_LABELS,
} from '../../lib/labels';
import { accountTiles } from '../../lib/tiles';
import { ageOf, formatDateTime, formatTime } from '../../lib/time';
import { uploadPhoto } from './NewAlertPage';

const TASK_EVENT_STATE: Record<string, Task['state']> = {
  TaskAcknowledged: 'acknowledged',
  TaskProgressReported: 'in_progress',
  TaskCompleted: 'done',
  TaskCancelled: 'cancelled',
};

/** Keeps the alert page live: applies each pushed event at once, then refetches what it touched. */
function useAlertLive(id: string) {
  const qc = useQueryClient();
  const refetch = useCoalescedRefetch();
  const refetchUntil = useRefetchUntil();
  const keys = useMemo(
    () => ({
      alert: ['alert', id],
      publications: ['publications', id],
      tasks: ['tasks', id],
      timeline: ['timeline', id],
      closure: ['closure', id],
    }),
    [id],
  );

  const onEvent = useCallback(
    (e: LiveEvent) => {
      if (e.topic === 'publications.v1') {
        qc.setQueryData<Publications>(keys.publications, (old) =>
          old
            ? {
                ...old,
                publications: old.publications.map((p) => {
                  if (p.id !== e.data.publicationId) return p;
                  if (e.type === 'PublicationSucceeded')
                    return {
                      ...p,
                      status: 'posted',
                      remoteId: e.data.remoteId,
                      remoteUrl: e.data.remoteUrl,
                      postedAt: e.data.postedAt,
                    };
                  if (e.type === 'PublicationFailed')
                    return {
                      ...p,
                      status: 'failed',
                      failureReason: e.data.reason,
                      lastError: e.data.error,
                      failedAt: e.data.failedAt,
                    };
                  if (e.type === 'PublicationWithdrawn')
                    return { ...p, withdrawalStatus: 'withdrawn', withdrawnAt: e.data.withdrawnAt };
                  return p;
                }),
              }
            : old,
        );
        void refetch(keys.publications);
      } else if (e.topic === 'tasks.v1') {
        const state = TASK_EVENT_STATE[e.type];
        if (state) {
          qc.setQueryData<{ items: Task[] }>(keys.tasks, (old) =>
            old ? { items: old.items.map((t) => (t.id === e.data.taskId ? { ...t, state } : t)) } : old,
          );
        }
        void refetch(keys.tasks);
      } else if (e.topic === 'alerts.v1') {
        void refetch(keys.alert);
        if (e.type === 'AlertDeactivated') {
          void refetch(keys.tasks);
          void refetch(keys.publications);
        }
      } else if (e.topic === 'tracking.v1' && e.type === 'AlertClosed') {
        // Intake closes the alert when it consumes the same event: show it now, confirm from intake.
        qc.setQueryData<AlertWithEtag>(keys.alert, (old) =>
          old
            ? {
                ...old,
                alert: { ...old.alert, status: 'closed', closedAt: e.data.closedAt ?? old.alert.closedAt },
              }
            : old,
        );
        void refetchUntil(keys.alert, (d: AlertWithEtag | undefined) => d?.alert.status === 'closed');
      }
      // The tracker records the event as the gateway pushes it: refetch until it is on the timeline,
      // then the closure figures, which the tracker derives from the same records.
      void refetchUntil(keys.timeline, (t: Timeline | null | undefined) =>
        Boolean(t?.entries.some((x) => x.eventId === e.id)),
      ).then(() => {
        const alert = qc.getQueryData<AlertWithEtag>(keys.alert)?.alert;
        if (alert && alert.status !== 'active') void refetch(keys.closure);
      });
    },
    [qc, keys, refetch, refetchUntil],
  );

  const onConnected = useCallback(() => {
    for (const k of Object.values(keys)) void refetch(k);
  }, [keys, refetch]);

  return useLiveEvents(id, onEvent, onConnected);
}

function Tiles({ pubs, deactivated }: { pubs: Publications | null | undefined; deactivated: boolean }) {
  const tiles = accountTiles(pubs?.publications ?? [], deactivated);
  const count = (s: string) => tiles.filter((t) => t.state === s).length;
  return (
    <section aria-labelledby="tiles-title" className="section">
      <h2 id="tiles-title">Cuentas oficiales</h2>
      {tiles.length === 0 ? (
        <p className="muted">Esperando la difusión a las cuentas oficiales…</p>
      ) : (
        <p className="summary" aria-live="polite" data-summary="tiles">
          {tiles.length} cuentas: {count('posted')} publicadas, {count('pending')} pendientes,{' '}
          {count('failed')} fallidas
          {count('uncertain') ? `, ${count('uncertain')} por confirmar` : ''}
          {deactivated ? `, ${count('withdrawn')} retiradas` : ''}
        </p>
      )}
      <ul className="tiles">
        {tiles.map((t) => (
          <li
            key={t.accountId}
            className={`tile tile-${t.state}`}
            data-account={t.accountId}
            data-state={t.state}
          >
            <span className="tile-handle">{t.handle}</span>
            <span className="tile-platform muted">{PLATFORM_LABELS[t.platform]}</span>
            <span className="tile-state">
              <Badge tone={t.state}>{TILE_LABELS[t.state]}</Badge>
            </span>
            {t.url && (
              <a href={t.url} target="_blank" rel="noreferrer noopener" className="tile-link">
                Ver publicación<span className="visually-hidden"> en {t.handle}</span>
              </a>
            )}
            {t.state === 'failed' && (
              <span className="tile-reason" data-reason={t.reason ?? ''}>
                {FAILURE_LABELS[t.reason ?? ''] ?? t.reason ?? 'error'}
                {t.detail ? ` — ${t.detail.slice(0, 120)}` : ''}
              </span>
            )}
            {t.state === 'uncertain' && (
              <span className="tile-reason" data-reason="may_exist">
                Pudo publicarse: se busca en la plataforma y, si está, se retirará como las demás.
              </span>
            )}
            {t.noticePosted && <span className="tile-notice">Aviso «localizada» publicado</span>}
            {t.at && <span className="tile-at muted">{formatTime(t.at)}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Tasks({ tasks, timeline }: { tasks: Task[]; timeline: Timeline | null | undefined }) {
  const escalations = new Map<string, { level: number; target: string; at: string }[]>();
  for (const e of timeline?.entries ?? []) {
    if (e.type !== 'TaskEscalated') continue;
    const id = String(e.details.taskId);
    escalations.set(id, [
      ...(escalations.get(id) ?? []),
      { level: e.details.level, target: e.details.target, at: e.occurredAt },
    ]);
  }
  return (
    <section aria-labelledby="tasks-title" className="section">
      <h2 id="tasks-title">Tareas de las áreas</h2>
      {tasks.length === 0 ? (
        <p className="muted">Esperando las tareas del PSO…</p>
      ) : (
        <ul className="task-list">
          {[...tasks]
            .sort((a, b) => a.stepOrder - b.stepOrder)
            .map((t) => (
              <li key={t.id} className="task" data-task={t.id} data-area={t.areaId} data-state={t.state}>
                <div className="task-head">
                  <strong>{t.areaName}</strong>
                  <Badge tone={t.state}>{TASK_STATE_LABELS[t.state]}</Badge>
                </div>
                <div>{t.title}</div>
                <div className="muted small">
                  Acuse antes de {formatTime(t.ackDueAt)} · concluir antes de{' '}
                  {formatDateTime(t.completeDueAt)}
                  {t.acknowledgedAt &&
                    ` · enterada ${formatTime(t.acknowledgedAt)}${t.acknowledgedVia === 'link' ? ' (enlace)' : ''}`}
                  {t.mail.status === 'failed' && ' · correo fallido'}
                </div>
                {(escalations.get(t.id) ?? []).map((e) => (
                  <div key={e.level} className="escalation small">
                    Escalamiento {e.level}: {ESCALATION_LABELS[e.target] ?? e.target} ({formatTime(e.at)})
                  </div>
                ))}
              </li>
            ))}
        </ul>
      )}
    </section>
  );
}

function ClosureProgress({
  status,
  pubs,
  tasks,
  closure,
}: {
  status: string;
  pubs: Publications | null | undefined;
  tasks: Task[];
  closure: Closure | null | undefined;
}) {
  if (status === 'active' || status === 'draft') return null;
  const withPhoto = (pubs?.publications ?? []).filter(
    (p) => p.withImage && p.remoteId && p.kind !== 'located_notice',
  );
  const withdrawn = withPhoto.filter((p) => p.withdrawalStatus === 'withdrawn').length;
  const open = tasks.filter((t) => t.state !== 'done' && t.state !== 'cancelled').length;
  return (
    <section aria-labelledby="closure-title" className="section card" data-closure={status}>
      <h2 id="closure-title">Retiro y cierre</h2>
      <p aria-live="polite">
        {status === 'closed' ? (
          <strong data-closed="true">Alerta cerrada.</strong>
        ) : (
          <>
            Retiro de la ficha en curso; la alerta se cierra cuando se retiren todas las publicaciones y se
            cierren las tareas.
          </>
        )}
      </p>
      <ul>
        <li data-withdrawal={`${withdrawn}/${withPhoto.length}`}>
          Publicaciones con la foto retiradas: {withdrawn} de {withPhoto.length}
          {pubs?.withdrawal?.completedAt && ` · retiro completo ${formatTime(pubs.withdrawal.completedAt)}`}
        </li>
        <li>Tareas abiertas: {open}</li>
        {closure && closure.missing.photoPosts.length > 0 && (
          <li>
            Faltan por retirar:{' '}
            {closure.missing.photoPosts
              .map((p) => `${p.handle} (${Math.round(p.ageSeconds / 60)} min)`)
              .join(', ')}
          </li>
        )}
        {closure?.overdue && (
          <li className="error-note">
            El cierre está vencido: se avisó a la guardia de la Unidad de Género.
          </li>
        )}
      </ul>
    </section>
  );
}

function Deactivate({ id, etag }: { id: string; etag: string | null }) {
  const [outcome, setOutcome] = useState<string>('');
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const refetch = useCoalescedRefetch();
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await writeAlert(`/api/v1/alerts/${id}/deactivate`, 'POST', { outcome }, etag);
      setConfirming(false);
      await refetch(['alert', id]);
    } catch (err) {
      setError(err);
      if (err instanceof ApiError && err.code === 'STALE_VERSION') await refetch(['alert', id]);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="deactivate-title" className="section card">
      <h2 id="deactivate-title">Desactivar la alerta</h2>
      <fieldset disabled={busy}>
        <legend>Resultado</legend>
        {Object.entries(OUTCOME_LABELS).map(([value, label]) => (
          <div className="field checkbox" key={value}>
            <input
              type="radio"
              id={`outcome-${value}`}
              name="outcome"
              value={value}
              checked={outcome === value}
              onChange={() => {
                setOutcome(value);
                setConfirming(false);
              }}
            />
            <label htmlFor={`outcome-${value}`}>{label}</label>
          </div>
        ))}
      </fieldset>
      {!confirming ? (
        <button
          type="button"
          className="button danger"
          disabled={!outcome}
          onClick={() => setConfirming(true)}
        >
          Desactivar…
        </button>
      ) : (
        <div
          role="alertdialog"
          aria-labelledby="confirm-title"
          aria-describedby="confirm-text"
          className="confirm"
        >
          <p id="confirm-title">
            <strong>¿Desactivar como «{OUTCOME_LABELS[outcome]}»?</strong>
          </p>
          <p id="confirm-text">
            Se retira la fotografía de todas las cuentas, se cancelan las tareas y se avisa a las áreas.
            {outcome === 'localizada_con_vida' ? ' Se publica el aviso «LOCALIZADA» sin foto.' : ''} No se
            puede deshacer.
          </p>
          <div className="actions">
            <button
              type="button"
              className="button danger"
              onClick={() => void confirm()}
              disabled={busy}
              autoFocus
            >
              Confirmar desactivación
            </button>
            <button
              type="button"
              className="button secondary"
              onClick={() => setConfirming(false)}
              disabled={busy}
            >
              Volver
            </button>
          </div>
        </div>
      )}
      <ErrorNote error={error} />
    </section>
  );
}

function EditFicha({ alert, etag, done }: { alert: Alert; etag: string | null; done: () => void }) {
  const refetch = useCoalescedRefetch();
  // The ficha and ETag as they were when editing began: a change by someone else meanwhile makes the
  // save fail with 412 STALE_VERSION (shown), instead of the form resetting under the operator's hands.
  const [initial] = useState(() => fichaFromAlert(alert));
  const [startEtag] = useState(etag);
  return (
    <FichaForm
      mode="edit"
      initial={initial}
      submit={async (payload, _action, photo) => {
        if (Object.keys(payload).length)
          await writeAlert(`/api/v1/alerts/${alert.id}`, 'PATCH', payload, startEtag);
        if (photo) await uploadPhoto(alert.id, photo, payload.photoAltText);
        done();
        await refetch(['alert', alert.id]);
      }}
    >
      <button type="button" className="button secondary" onClick={done}>
        Cancelar
      </button>
    </FichaForm>
  );
}

function PrivatePart({ id }: { id: string }) {
  const [shown, setShown] = useState(false);
  const priv = useQuery({
    queryKey: ['private', id],
    queryFn: () => api<PrivateFicha>(`/api/v1/alerts/${id}/private`),
    enabled: shown,
    staleTime: 0,
    gcTime: 0,
  });
  return (
    <section aria-labelledby="private-title" className="section card private-part">
      <h2 id="private-title">Parte privada</h2>
      {!shown ? (
        <button type="button" className="button secondary" onClick={() => setShown(true)}>
          Mostrar parte privada (la lectura queda en la bitácora)
        </button>
      ) : priv.data ? (
        <dl className="facts">
          {Object.entries(priv.data)
            .filter(([, v]) => v !== null && v !== undefined && v !== '')
            .map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{Array.isArray(v) ? v.join(', ') : String(v)}</dd>
              </div>
            ))}
        </dl>
      ) : (
        <Loading />
      )}
    </section>
  );
}

export function AlertPage() {
  const { id = '' } = useParams();
  const { user } = useSession();
  const [editing, setEditing] = useState(false);
  const alertQ = useQuery({ queryKey: ['alert', id], queryFn: () => fetchAlert(id) });
  const pubsQ = useQuery({
    queryKey: ['publications', id],
    queryFn: () => apiOptional<Publications>(`/api/v1/alerts/${id}/publications`),
  });
  const tasksQ = useQuery({
    queryKey: ['tasks', id],
    queryFn: () => api<{ items: Task[] }>(`/api/v1/tasks?alertId=${id}`),
  });
  const timelineQ = useQuery({
    queryKey: ['timeline', id],
    queryFn: () => apiOptional<Timeline>(`/api/v1/alerts/${id}/timeline`),
  });
  const status = alertQ.data?.alert.status;
  const closureQ = useQuery({
    queryKey: ['closure', id],
    queryFn: () => apiOptional<Closure>(`/api/v1/alerts/${id}/closure`),
    enabled: status === 'deactivated' || status === 'closed',
  });
  const live = useAlertLive(id);
  const refetch = useCoalescedRefetch();

  if (alertQ.isPending) return <Loading />;
  if (alertQ.error) return <ErrorNote error={alertQ.error} />;
  const { alert, etag } = alertQ.data;
  const f = alert.ficha;
  const tasks = tasksQ.data?.items ?? [];
  const loaded = Boolean(pubsQ.data !== undefined && tasksQ.data && timelineQ.data !== undefined);
  const deactivated = alert.status === 'deactivated' || alert.status === 'closed';

  return (
    <article
      className="page alert-page"
      aria-labelledby="alert-title"
      data-loaded={loaded ? 'true' : 'false'}
      data-status={alert.status}
    >
      <div className="page-head">
        <h1 id="alert-title">
          {alert.folio ?? 'Borrador'} · {f.fullName}
        </h1>
        <LiveIndicator status={live} />
      </div>
      <p className="alert-facts">
        <Badge tone={alert.status}>{ALERT_STATUS_LABELS[alert.status]}</Badge>
        {alert.outcome && <span> {OUTCOME_LABELS[alert.outcome]}</span>}
        <span>
          {' '}
          · {f.age} años{f.isMinor ? ' · menor (Alerta Amber)' : ''} · {f.municipalityName}
        </span>
        {alert.activatedAt && (
          <span>
            {' '}
            · activada {formatDateTime(alert.activatedAt)} (hace {ageOf(alert.activatedAt)})
          </span>
        )}
        <span> · versión {alert.version}</span>
      </p>
      {alert.status === 'draft' && (
        <div className="card">
          <p>Este borrador aún no se publica.</p>
          <button
            type="button"
            className="button"
            onClick={() =>
              void writeAlert(`/api/v1/alerts/${id}/activate`, 'POST', undefined, etag).then(() =>
                refetch(['alert', id]),
              )
            }
          >
            Activar alerta
          </button>
        </div>
      )}
      <div className="alert-grid">
        <div>
          <Tiles pubs={pubsQ.data} deactivated={deactivated} />
          <ErrorNote error={pubsQ.error} />
        </div>
        <div>
          <Tasks tasks={tasks} timeline={timelineQ.data} />
          <ClosureProgress status={alert.status} pubs={pubsQ.data} tasks={tasks} closure={closureQ.data} />
        </div>
      </div>

      <section aria-labelledby="ficha-title" className="section card">
        <h2 id="ficha-title">Ficha</h2>
        {f.photoUrl && (
          <img
            src={f.photoUrl}
            alt={f.photoAltText ?? `Fotografía de ${f.fullName}`}
            className="ficha-photo"
          />
        )}
        <dl className="facts">
          {[
            [
              'Última vez vista',
              `${formatDateTime(f.lastSeenAt)}${f.lastSeenPlace ? `, ${f.lastSeenPlace}` : ''}`,
            ],
            ['Localidad', f.locality],
            ['Estatura', f.heightCm ? `${f.heightCm} cm` : null],
            ['Complexión', f.build],
            ['Cabello', f.hair],
            ['Señas particulares', f.distinguishingMarks],
            ['Vestimenta', f.clothing],
            ['Circunstancias', f.circumstances],
            ['Lengua indígena', f.indigenousLanguage],
            ['Folio Amber', f.amberFolio],
            ['Teléfonos', f.contactPhones?.join(', ')],
            ['Activa', f.activatingBody],
          ]
            .filter(([, v]) => v)
            .map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
        </dl>
        {(alert.status === 'active' || alert.status === 'draft') && !editing && (
          <button type="button" className="button secondary" onClick={() => setEditing(true)}>
            Actualizar ficha
          </button>
        )}
        {editing && <EditFicha alert={alert} etag={etag} done={() => setEditing(false)} />}
      </section>
      {user && (user.role === 'operadora' || user.role === 'admin') && <PrivatePart id={id} />}
      {alert.status === 'active' && <Deactivate id={id} etag={etag} />}

      <section aria-labelledby="timeline-title" className="section">
        <h2 id="timeline-title">Línea de tiempo</h2>
        {timelineQ.data === null && <p className="muted">El seguimiento aún no registra esta alerta.</p>}
        <ol className="timeline" aria-live="off">
          {(timelineQ.data?.entries ?? []).map((e) => (
            <li key={e.seq} data-type={e.type}>
              <time dateTime={e.occurredAt}>{formatTime(e.occurredAt)}</time> {e.label}
            </li>
          ))}
        </ol>
        {alert.status !== 'draft' && user?.role === 'admin' && (
          <p>
            <Link to={`/comite/alertas/${id}`}>Ver como carriles en el tiempo</Link>
          </p>
        )}
      </section>
    </article>
  );
}
