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
import { api } from '../../api/client';
import { Alert, Timeline } from '../../api/types';
import { Badge, ErrorNote, Loading } from '../../components/Common';
import { ALERT_STATUS_LABELS, OUTCOME_LABELS, PLATFORM_LABELS } from '../../lib/labels';
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

  if (timeline.isPending) return <Loading />;
  if (timeline.error) return <ErrorNote error={timeline.error} />;
  const { lanes, points } = swimlanes(timeline.data.entries);
  const height = Math.max(240, lanes.length * 34 + 80);
  const a = alert.data;
  const f = figures.data;
  const seconds = (v: number | null | undefined) =>
    typeof v === 'number' ? formatDuration(v * 1000) : 'sin dato';

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
        <ErrorNote error={figures.error} />
        {figures.isPending && <Loading />}
        {f && (
          <>
            <dl className="facts">
              {f.definitions
                .filter((d) => d.key in f.durations)
                .map((d) => (
                  <div key={d.key} data-figure={d.key}>
                    <dt>{d.label}</dt>
                    <dd title={d.counts}>{seconds(f.durations[d.key])}</dd>
                  </div>
                ))}
              {Object.entries(f.publicationsByPlatform).map(([p, v]) => (
                <div key={p}>
                  <dt>Publicación en {PLATFORM_LABELS[p] ?? p}: primera / última</dt>
                  <dd>
                    {seconds(v.activatedToFirst)} / {seconds(v.activatedToLast)}
                  </dd>
                </div>
              ))}
              <div>
                <dt>Actualizaciones de la ficha</dt>
                <dd>{f.updates}</dd>
              </div>
              <div>
                <dt>Escalamientos (nivel más alto)</dt>
                <dd>
                  {f.escalations.count}
                  {f.escalations.count > 0 && f.escalations.highestLevel !== null
                    ? ` (nivel ${f.escalations.highestLevel})`
                    : ''}
                </dd>
              </div>
              <div>
                <dt>Publicaciones con fotografía: retiradas / total</dt>
                <dd>
                  {f.photoPosts.withdrawn} / {f.photoPosts.total}
                  {f.photoPosts.stillUp > 0 ? ` (${f.photoPosts.stillUp} sin retirar)` : ''}
                </dd>
              </div>
            </dl>
            {f.areas.length > 0 && (
              <div className="table-wrap">
                <table className="table">
                  <caption>Por área</caption>
                  <thead>
                    <tr>
                      <th scope="col">Área</th>
                      <th scope="col">Acuse de recibo</th>
                      <th scope="col">Conclusión</th>
                      <th scope="col">A tiempo</th>
                      <th scope="col">Escalamientos</th>
                    </tr>
                  </thead>
                  <tbody>
                    {f.areas.map((a) => (
                      <tr key={a.areaId} data-area={a.areaId}>
                        <th scope="row">{a.areaName ?? a.areaId}</th>
                        <td>{seconds(a.acknowledgementSeconds)}</td>
                        <td>{seconds(a.completionSeconds)}</td>
                        <td>{a.acknowledgedOnTime === null ? '—' : a.acknowledgedOnTime ? 'sí' : 'no'}</td>
                        <td>{a.escalations}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </section>
    </article>
  );
}
