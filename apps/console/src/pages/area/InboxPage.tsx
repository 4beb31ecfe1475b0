import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { useLiveEvents } from '../../api/live';
import { useCoalescedRefetch } from '../../api/refetch';
import { useSession } from '../../api/session';
import { Alert, Task } from '../../api/types';
import { Badge, ErrorNote, LiveIndicator, Loading } from '../../components/Common';
import { TASK_STATE_LABELS } from '../../lib/labels';
import { formatDateTime, formatTime } from '../../lib/time';

const OPEN = ['assigned', 'acknowledged', 'in_progress'];

/** The area's inbox: its own tasks, open ones first, live. */
export function InboxPage() {
  const { user } = useSession();
  const tasks = useQuery({
    queryKey: ['tasks', 'inbox'],
    queryFn: () => api<{ items: Task[] }>('/api/v1/tasks'),
  });
  const alerts = useQuery({
    queryKey: ['alerts'],
    queryFn: () => api<{ items: Alert[] }>('/api/v1/alerts?limit=200'),
  });
  const refetch = useCoalescedRefetch();
  const live = useLiveEvents(
    null,
    (e) => {
      if (e.topic === 'tasks.v1') void refetch(['tasks', 'inbox']);
      if (e.topic === 'alerts.v1') void refetch(['alerts']);
    },
    () => {
      void refetch(['tasks', 'inbox']);
      void refetch(['alerts']);
    },
  );
  const byAlert = new Map((alerts.data?.items ?? []).map((a) => [a.id, a]));
  const items = [...(tasks.data?.items ?? [])].sort(
    (a, b) =>
      Number(OPEN.includes(b.state)) - Number(OPEN.includes(a.state)) ||
      Date.parse(b.createdAt) - Date.parse(a.createdAt),
  );
  return (
    <section className="page" aria-labelledby="inbox-title">
      <div className="page-head">
        <h1 id="inbox-title">
          Bandeja del área{items[0] ? `: ${items[0].areaName}` : user?.areaId ? ` (${user.areaId})` : ''}
        </h1>
        <LiveIndicator status={live} />
      </div>
      {tasks.isPending && <Loading />}
      <ErrorNote error={tasks.error} />
      {tasks.data && items.length === 0 && <p>No hay tareas para su área.</p>}
      <ul className="task-list">
        {items.map((t) => {
          const a = byAlert.get(t.alertId);
          return (
            <li key={t.id} className="task" data-task={t.id} data-state={t.state}>
              <div className="task-head">
                <Link to={`/bandeja/${t.id}`}>
                  <strong>{a?.folio ?? 'Alerta'}</strong> · {t.title}
                </Link>
                <Badge tone={t.state}>{TASK_STATE_LABELS[t.state]}</Badge>
              </div>
              {a && (
                <div className="small">
                  {a.ficha.fullName}, {a.ficha.age} años · {a.ficha.municipalityName}
                </div>
              )}
              <div className="muted small">
                {t.state === 'assigned'
                  ? `Confirme antes de ${formatTime(t.ackDueAt)}`
                  : `Concluir antes de ${formatDateTime(t.completeDueAt)}`}
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
