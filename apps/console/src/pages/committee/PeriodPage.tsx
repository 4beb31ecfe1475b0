import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { download } from '../../api/client';
import { ErrorNote, Loading } from '../../components/Common';
import { PLATFORM_LABELS } from '../../lib/labels';
import { formatDuration } from '../../lib/time';
import { EMPTY_FILTERS, LocatedWithin, committee, filterQuery, percent } from './committee';
import { Filters } from './Filters';

const OUTCOME_COLORS: Record<string, string> = {
  localizada_con_vida: '#2e7d32',
  localizada_sin_vida: '#37474f',
  cancelada: '#8d6e63',
  open: '#ad1457',
};

const minutes = (seconds: number | null) => (seconds === null ? null : Math.round((seconds / 60) * 10) / 10);
const seconds = (s: number | null) => (s === null ? '—' : formatDuration(s * 1000));

/** Horizontal bars of the median and p90 (minutes) of each row. */
function MedianP90Chart({
  label,
  rows,
  rowHeight,
}: {
  label: string;
  rows: { name: string; mediana: number | null; p90: number | null }[];
  rowHeight: number;
}) {
  return (
    <div className="chart" role="img" aria-label={label}>
      <ResponsiveContainer width="100%" height={Math.max(220, rows.length * rowHeight)}>
        <BarChart data={rows} layout="vertical" margin={{ left: 10, right: 20 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis type="number" unit=" min" />
          <YAxis type="category" dataKey="name" width={220} tick={{ fontSize: 12 }} interval={0} />
          <Tooltip />
          <Legend />
          <Bar dataKey="mediana" name="Mediana" fill="#ad1457" isAnimationActive={false} />
          <Bar dataKey="p90" name="Percentil 90" fill="#5c6bc0" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

function Within({ hours, w }: { hours: number; w: LocatedWithin }) {
  return (
    <li data-within={hours}>
      Localizadas en {hours} h: <strong>{percent(w.share)}</strong> ({w.located} de {w.eligible}; excluidas{' '}
      {w.excluded})
    </li>
  );
}

/** The period dashboard: durations (median, p90), outcomes by region, and the downloads. */
export default function PeriodPage() {
  const [filters, setFilters] = useState(EMPTY_FILTERS);
  const query = filterQuery(filters);
  const report = useQuery({ queryKey: ['committee-period', query], queryFn: () => committee.period(query) });
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const r = report.data;

  const label = (key: string) => r?.definitions.find((x) => x.key === key)?.label ?? key;
  const durations = r
    ? Object.entries(r.durations).map(([key, d]) => ({
        key,
        label: label(key),
        mediana: minutes(d.median),
        p90: minutes(d.p90),
        n: d.n,
        excluded: d.excluded,
        medianS: d.median,
        p90S: d.p90,
      }))
    : [];
  const outcomeKeys = r ? Object.keys(r.counts.byOutcome) : [];
  const byRegion = r ? r.counts.byRegion.map((g) => ({ region: g.name, ...g.byOutcome })) : [];
  const areaTimes = r
    ? r.areas.map((a) => ({
        name: a.areaName ?? a.areaId,
        mediana: minutes(a.acknowledgement.median),
        p90: minutes(a.acknowledgement.p90),
      }))
    : [];

  const get = async (file: string, name: string) => {
    setBusy(file);
    setDownloadError(null);
    try {
      await download(`/api/v1/committee/export/${file}${query}`, name);
    } catch (err) {
      setDownloadError(err);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section className="page" aria-labelledby="period-title">
      <h1 id="period-title">Comité Estatal: periodo</h1>
      <Filters value={filters} onChange={setFilters} />
      {report.isPending && <Loading />}
      <ErrorNote error={report.error} />
      {r && (
        <div data-committee="available">
          <section className="section card" aria-labelledby="counts-title">
            <h2 id="counts-title">Alertas del periodo: {r.counts.total}</h2>
            <ul className="inline-list">
              {Object.entries(r.counts.byOutcome).map(([k, v]) => (
                <li key={k} data-outcome={k}>
                  {r.outcomeLabels[k] ?? k}: <strong>{v}</strong>
                </li>
              ))}
            </ul>
            <ul className="inline-list">
              <Within hours={24} w={r.locatedWithin24h} />
              <Within hours={72} w={r.locatedWithin72h} />
              <li>
                Escalamientos: <strong>{r.counts.escalations.total}</strong> (en{' '}
                {r.counts.escalations.alertsWithEscalations} alertas)
              </li>
              <li>
                Municipios con AVGM: <strong>{r.counts.byAvgm.avgm}</strong>
              </li>
            </ul>
          </section>
          <section className="section card" aria-labelledby="durations-title">
            <h2 id="durations-title">Tiempos: mediana y percentil 90 (minutos)</h2>
            <MedianP90Chart
              label="Gráfica de barras de medianas y percentiles 90 de los tiempos"
              rows={durations.map((d) => ({ name: d.label, mediana: d.mediana, p90: d.p90 }))}
              rowHeight={44}
            />
            <div className="table-wrap">
              <table className="table">
                <caption>Tiempos del periodo</caption>
                <thead>
                  <tr>
                    <th scope="col">Tiempo</th>
                    <th scope="col">Alertas</th>
                    <th scope="col">Mediana</th>
                    <th scope="col">Percentil 90</th>
                    <th scope="col">Excluidas</th>
                  </tr>
                </thead>
                <tbody>
                  {durations.map((d) => (
                    <tr key={d.key}>
                      <th scope="row">{d.label}</th>
                      <td>{d.n}</td>
                      <td>{seconds(d.medianS)}</td>
                      <td>{seconds(d.p90S)}</td>
                      <td>{d.excluded}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <section className="section card" aria-labelledby="regions-title">
            <h2 id="regions-title">Resultados por región</h2>
            <div className="chart" role="img" aria-label="Gráfica de barras de resultados por región">
              <ResponsiveContainer width="100%" height={320}>
                <BarChart data={byRegion} margin={{ left: 0, right: 10 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis
                    dataKey="region"
                    tick={{ fontSize: 11 }}
                    interval={0}
                    angle={-20}
                    textAnchor="end"
                    height={60}
                  />
                  <YAxis allowDecimals={false} />
                  <Tooltip />
                  <Legend />
                  {outcomeKeys.map((k) => (
                    <Bar
                      key={k}
                      dataKey={k}
                      stackId="o"
                      name={r.outcomeLabels[k] ?? k}
                      fill={OUTCOME_COLORS[k] ?? '#ad1457'}
                      isAnimationActive={false}
                    />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </div>
          </section>
          <section className="section card" aria-labelledby="areas-title">
            <h2 id="areas-title">Áreas: acuse de recibo (minutos)</h2>
            <MedianP90Chart
              label="Gráfica de barras de medianas y percentiles 90 del acuse de recibo por área"
              rows={areaTimes}
              rowHeight={40}
            />
            <div className="table-wrap">
              <table className="table">
                <caption>{label('areas.onTime')}</caption>
                <thead>
                  <tr>
                    <th scope="col">Área</th>
                    <th scope="col">Tareas</th>
                    <th scope="col">A tiempo</th>
                    <th scope="col">Acuse: mediana</th>
                    <th scope="col">Acuse: p90</th>
                    <th scope="col">Conclusión: mediana</th>
                    <th scope="col">Escalamientos</th>
                  </tr>
                </thead>
                <tbody>
                  {r.areas.map((a) => (
                    <tr key={a.areaId} data-area={a.areaId}>
                      <th scope="row">{a.areaName ?? a.areaId}</th>
                      <td>{a.tasks}</td>
                      <td>
                        {percent(a.shareOnTime)} ({a.acknowledgedOnTime} de {a.due})
                      </td>
                      <td>{seconds(a.acknowledgement.median)}</td>
                      <td>{seconds(a.acknowledgement.p90)}</td>
                      <td>{seconds(a.completion.median)}</td>
                      <td>{a.escalations}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <section className="section card" aria-labelledby="accounts-title">
            <h2 id="accounts-title">Cuentas: fallas de publicación y retiro de la fotografía</h2>
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Cuentas oficiales</caption>
                <thead>
                  <tr>
                    <th scope="col">Cuenta</th>
                    <th scope="col">Publicaciones</th>
                    <th scope="col">{label('accounts.failureRate')}</th>
                    <th scope="col">Con fotografía</th>
                    <th scope="col">Sin retirar</th>
                    <th scope="col">Retiro: mediana</th>
                    <th scope="col">Retiro: p90</th>
                  </tr>
                </thead>
                <tbody>
                  {r.accounts.map((a) => (
                    <tr key={a.accountId} data-account={a.accountId}>
                      <th scope="row">
                        {a.handle}{' '}
                        <span className="muted small">({PLATFORM_LABELS[a.platform] ?? a.platform})</span>
                      </th>
                      <td>{a.publications}</td>
                      <td>{percent(a.failureRate)}</td>
                      <td>{a.photoPosts}</td>
                      <td>{a.stillUp}</td>
                      <td>{seconds(a.withdrawal.median)}</td>
                      <td>{seconds(a.withdrawal.p90)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          {r.definitions.length > 0 && (
            <details className="card">
              <summary>Definiciones de las cifras</summary>
              <dl className="facts">
                {r.definitions.map((d) => (
                  <div key={d.key}>
                    <dt>{d.label}</dt>
                    <dd>{[d.counts, d.excludes, d.openAlerts].filter(Boolean).join(' ')}</dd>
                  </div>
                ))}
              </dl>
            </details>
          )}
        </div>
      )}
      <section className="section card" aria-labelledby="downloads-title">
        <h2 id="downloads-title">Descargas</h2>
        <div className="actions">
          {[
            ['alerts.csv', 'alertas.csv', 'Alertas (CSV)'],
            ['tasks.csv', 'tareas.csv', 'Tareas (CSV)'],
            ['dictionary.csv', 'diccionario.csv', 'Diccionario de datos (CSV)'],
            ['report.pdf', 'informe-alerta-rosa.pdf', 'Informe (PDF)'],
          ].map(([file, name, label]) => (
            <button
              key={file}
              type="button"
              className="button secondary"
              disabled={busy !== null || !r}
              onClick={() => void get(file, name)}
            >
              {busy === file ? 'Descargando…' : label}
            </button>
          ))}
        </div>
        <ErrorNote error={downloadError} />
      </section>
    </section>
  );
}
