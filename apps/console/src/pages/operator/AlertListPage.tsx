import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, apiOptional } from '../../api/client';
import { useLiveEvents } from '../../api/live';
import { useCoalescedRefetch } from '../../api/refetch';
import { Alert, Closure } from '../../api/types';
import { Badge, ErrorNote, LiveIndicator, Loading } from '../../components/Common';
import { ALERT_STATUS_LABELS, OUTCOME_LABELS } from '../../lib/labels';
import { ageOf, formatDateTime } from '../../lib/time';

const ORDER: Record<string, number> = { active: 0, draft: 1, deactivated: 2, closed: 3, discarded: 4 };

function ClosureState({ alert }: { alert: Alert }) {
  const closure = useQuery({
    queryKey: ['closure', alert.id],
    queryFn: () => apiOptional<Closure>(`/api/v1/alerts/${alert.id}/closure`),
    enabled: alert.status === 'deactivated',
  });
  if (alert.status === 'closed') return <Badge tone="closed">cerrada</Badge>;
  if (alert.status !== 'deactivated') return <span className="muted">—</span>;
  const c = closure.data;
  if (!c) return <Badge tone="pending">cierre pendiente</Badge>;
  const parts = [
    c.missing.photoPosts.length ? `${c.missing.photoPosts.length} publicaciones por retirar` : null,
    c.missing.tasks.length ? `${c.missing.tasks.length} tareas abiertas` : null,
  ].filter(Boolean);
  return (
    <Badge tone={c.overdue ? 'failed' : 'pending'}>
      {c.overdue ? 'cierre vencido' : 'cierre pendiente'}
      {parts.length ? `: ${parts.join(', ')}` : ''}
    </Badge>
  );
}

export function AlertListPage() {
  const alerts = useQuery({
    queryKey: ['alerts'],
    queryFn: () => api<{ items: Alert[] }>('/api/v1/alerts?limit=200'),
  });
  const refetch = useCoalescedRefetch();
  const live = useLiveEvents(
    null,
    (e) => {
      if (e.topic === 'alerts.v1' || e.topic === 'tracking.v1') void refetch(['alerts']);
      if (e.topic !== 'alerts.v1') void refetch(['closure', e.alertId]);
    },
    () => void refetch(['alerts']),
  );
  const items = [...(alerts.data?.items ?? [])].sort(
    (a, b) =>
      (ORDER[a.status] ?? 9) - (ORDER[b.status] ?? 9) || Date.parse(b.createdAt) - Date.parse(a.createdAt),
  );
  return (
    <section className="page" aria-labelledby="list-title">
      <div className="page-head">
        <h1 id="list-title">Alertas</h1>
        <LiveIndicator status={live} />
        <Link className="button" to="/alertas/nueva">
          Nueva alerta
        </Link>
      </div>
      {alerts.isPending && <Loading />}
      <ErrorNote error={alerts.error} />
      {alerts.data && items.length === 0 && <p>No hay alertas registradas.</p>}
      {items.length > 0 && (
        <ul className="alert-list">
          {items.map((a) => (
            <li key={a.id} className={`alert-row status-${a.status}`} data-alert={a.id}>
              <div className="alert-row-main">
                <Link to={`/alertas/${a.id}`} className="alert-link">
                  <strong>{a.folio ?? 'Borrador'}</strong> · {a.ficha.fullName}, {a.ficha.age} años
                </Link>
                <span className="muted">{a.ficha.municipalityName}</span>
              </div>
              <div className="alert-row-meta">
                <Badge tone={a.status}>{ALERT_STATUS_LABELS[a.status]}</Badge>
                {a.outcome && <span>{OUTCOME_LABELS[a.outcome]}</span>}
                <span>
                  {a.activatedAt ? (
                    <>
                      activa hace <span data-age>{ageOf(a.activatedAt)}</span>
                    </>
                  ) : (
                    <>creada {formatDateTime(a.createdAt)}</>
                  )}
                </span>
                <ClosureState alert={a} />
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
