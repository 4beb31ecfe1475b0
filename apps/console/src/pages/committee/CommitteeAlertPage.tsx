import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import {
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { api, apiOptional } from '../../api/client';
import { Alert, Timeline } from '../../api/types';
import { Badge, ErrorNote, Loading } from '../../components/Common';
import { ALERT_STATUS_LABELS, OUTCOME_LABELS } from '../../lib/labels';
import { formatDateTime, formatDuration, formatTime } from '../../lib/time';
import { committee } from './committee';
import { LanePoint, swimlanes } from './swimlanes';

const KINDS: {
  kind: LanePoint['kind'];
  name: string;
  color: string;
  shape: 'circle' | 'cross' | 'diamond' | 'triangle' | 'square';
}[] = [
  { kind: 'ok', name: 'Hecho', color: '#2e7d32', shape: 'circle' },
  { kind: 'fail', name: 'Falla', color: '#c62828', shape: 'cross' },
  { kind: 'escalation', name: 'Escalamiento', color: '#ef6c00', shape: 'triangle' },
  { kind: 'withdrawal', name: 'Retiro', color: '#455a64', shape: 'square' },
  { kind: 'info', name: 'Cambio de estado', color: '#ad1457', shape: 'diamond' },
];

/** An alert's timeline drawn as swimlanes over time, with its figures when the tracker has them. */
export default function CommitteeAlertPage() {
  const { id = '' } = useParams();
  const timeline = useQuery({
    queryKey: ['timeline', id],
    queryFn: () => api<Timeline>(`/api/v1/alerts/${id}/timeline`),
  });
  const alert = useQuery({
    queryKey: ['alert-public', id],
    queryFn: () => api<Alert>(`/api/v1/alerts/${id}`),
  });
  const figures = useQuery({ queryKey: ['committee-alert', id], queryFn: () => committee.alert(id) });
  const pubs = useQuery({
    queryKey: ['publications', id],
    queryFn: () => apiOptional<{ publications: { status: string }[] }>(`/api/v1/alerts/${id}/publications`),
  });

  if (timeline.isPending) return <Loading />;
  if (timeline.error) return <ErrorNote error={timeline.error} />;
  const { lanes, points } = swimlanes(timeline.data.entries);
  const height = Math.max(240, lanes.length * 34 + 80);
  const a = alert.data;
  const durations = (figures.data?.durations ?? {}) as Record<string, number | null>;
  const definitions = (figures.data?.definitions ?? []) as { key: string; label: string }[];

  return (
    <article className="page" aria-labelledby="swim-title" data-loaded="true">
      <p>
        <Link to="/comite">← Alertas</Link>
      </p>
      <h1 id="swim-title">Alerta {timeline.data.folio ?? ''}: línea de tiempo</h1>
      {a && (
        <p>
          <Badge tone={a.status}>{ALERT_STATUS_LABELS[a.status]}</Badge>{' '}
          {a.outcome ? OUTCOME_LABELS[a.outcome] : ''} · {a.ficha.municipalityName} · activada{' '}
          {formatDateTime(a.activatedAt)}
          {a.deactivatedAt && ` · desactivada ${formatDateTime(a.deactivatedAt)}`}
        </p>
      )}
      <section className="section card" aria-labelledby="lanes-title">
        <h2 id="lanes-title">Carriles en el tiempo</h2>
        <p className="muted small">
          Publicaciones por plataforma, tareas por área, escalamientos, localización y retiro ({points.length}{' '}
          hechos; hora de Oaxaca).
        </p>
        <div
          className="chart"
          role="img"
          aria-label={`Gráfica de carriles con ${lanes.length} carriles: ${lanes.join(', ')}`}
          data-lanes={lanes.length}
        >
          <ResponsiveContainer width="100%" height={height}>
            <ScatterChart margin={{ top: 10, right: 20, bottom: 10, left: 10 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis
                dataKey="t"
                type="number"
                domain={['dataMin', 'dataMax']}
                tickFormatter={(t: number) => formatTime(new Date(t).toISOString())}
                name="Hora"
              />
              <YAxis
                dataKey="lane"
                type="number"
                domain={[-0.5, lanes.length - 0.5]}
                ticks={lanes.map((_, i) => i)}
                tickFormatter={(i: number) => lanes[i] ?? ''}
                reversed
                width={170}
                interval={0}
                tick={{ fontSize: 12 }}
                name="Carril"
              />
              <Tooltip
                cursor={false}
                content={({ payload }) => {
                  const p = payload?.[0]?.payload as LanePoint | undefined;
                  return p ? (
                    <div className="chart-tip">
                      <strong>{formatTime(new Date(p.t).toISOString())}</strong> {p.label}
                    </div>
                  ) : null;
                }}
              />
              <Legend />
              {KINDS.map((k) => (
                <Scatter
                  key={k.kind}
                  name={k.name}
                  data={points.filter((p) => p.kind === k.kind)}
                  fill={k.color}
                  shape={k.shape}
                  isAnimationActive={false}
                />
              ))}
            </ScatterChart>
          </ResponsiveContainer>
        </div>
        <details>
          <summary>Ver los hechos como lista</summary>
          <ol className="timeline">
            {timeline.data.entries.map((e) => (
              <li key={e.seq}>
                <time dateTime={e.occurredAt}>{formatDateTime(e.occurredAt)}</time> {e.label}
              </li>
            ))}
          </ol>
        </details>
      </section>
      <section className="section card" aria-labelledby="figures-title">
        <h2 id="figures-title">Cifras de la alerta</h2>
        {figures.data === null ? (
          <p className="muted">
            Las cifras por alerta aún no están disponibles en este servidor.
            {pubs.data && ` Publicaciones registradas: ${pubs.data.publications.length}.`}
          </p>
        ) : figures.data ? (
          <dl className="facts">
            {Object.entries(durations).map(([k, v]) => (
              <div key={k}>
                <dt>{definitions.find((d) => d.key === k)?.label ?? k}</dt>
                <dd>{typeof v === 'number' ? formatDuration(v * 1000) : 'sin dato'}</dd>
              </div>
            ))}
          </dl>
        ) : (
          <Loading />
        )}
      </section>
    </article>
  );
}
