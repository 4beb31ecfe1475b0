import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { download } from '../../api/client';
import { ErrorNote, Loading } from '../../components/Common';
import { OUTCOME_LABELS } from '../../lib/labels';
import { formatDuration } from '../../lib/time';
import { EMPTY_FILTERS, NOT_YET, REGIONS, committee, filterQuery } from './committee';
import { Filters } from './Filters';

const OUTCOME_COLORS: Record<string, string> = {
  localizada_con_vida: '#2e7d32',
  localizada_sin_vida: '#37474f',
  cancelada: '#8d6e63',
  activa: '#ad1457',
};

/** The period dashboard: durations (median, p90), outcomes by region, and the downloads. */
export default function PeriodPage() {
  const [filters, setFilters] = useState(EMPTY_FILTERS);
  const query = filterQuery(filters);
  const report = useQuery({ queryKey: ['committee-period', query], queryFn: () => committee.period(query) });
  const [downloadError, setDownloadError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const r = report.data;

  const durations = r
    ? Object.entries(r.durations).map(([key, d]) => ({
        key,
        label: r.definitions?.find((x) => x.key === key)?.label ?? key,
        mediana: d.median === null ? null : Math.round((d.median / 60) * 10) / 10,
        p90: d.p90 === null ? null : Math.round((d.p90 / 60) * 10) / 10,
        n: d.n,
        excluded: d.excluded ?? 0,
        medianS: d.median,
        p90S: d.p90,
      }))
    : [];
  const regionName = (id: string) => REGIONS.find(([k]) => k === id)?.[1] ?? id;
  const byRegion = r
    ? Object.entries(r.counts.byRegion).map(([region, v]) =>
        typeof v === 'number'
          ? { region: regionName(region), total: v }
          : { region: regionName(region), ...v },
      )
    : [];
  const outcomeKeys = [...new Set(byRegion.flatMap((row) => Object.keys(row).filter((k) => k !== 'region')))];

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
      {r === null && (
        <p className="note" role="note" data-committee="unavailable">
          {NOT_YET}
        </p>
      )}
      {r && (
        <div data-committee="available">
          <section className="section card" aria-labelledby="counts-title">
            <h2 id="counts-title">Alertas del periodo: {r.counts.total}</h2>
            <ul className="inline-list">
              {Object.entries(r.counts.byOutcome).map(([k, v]) => (
                <li key={k}>
                  {OUTCOME_LABELS[k] ?? k}: <strong>{v}</strong>
                </li>
              ))}
              {r.locatedWithin24h != null && <li>Localizadas en 24 h: {r.locatedWithin24h}</li>}
              {r.locatedWithin72h != null && <li>Localizadas en 72 h: {r.locatedWithin72h}</li>}
            </ul>
          </section>
          <section className="section card" aria-labelledby="durations-title">
            <h2 id="durations-title">Tiempos: mediana y percentil 90 (minutos)</h2>
            <div
              className="chart"
              role="img"
              aria-label="Gráfica de barras de medianas y percentiles 90 de los tiempos"
            >
              <ResponsiveContainer width="100%" height={Math.max(260, durations.length * 44)}>
                <BarChart data={durations} layout="vertical" margin={{ left: 10, right: 20 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis type="number" unit=" min" />
                  <YAxis type="category" dataKey="label" width={220} tick={{ fontSize: 12 }} interval={0} />
                  <Tooltip />
                  <Legend />
                  <Bar dataKey="mediana" name="Mediana" fill="#ad1457" isAnimationActive={false} />
                  <Bar dataKey="p90" name="Percentil 90" fill="#5c6bc0" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </div>
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
                      <td>{d.medianS === null ? '—' : formatDuration(d.medianS * 1000)}</td>
                      <td>{d.p90S === null ? '—' : formatDuration(d.p90S * 1000)}</td>
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
                      name={OUTCOME_LABELS[k] ?? (k === 'total' ? 'Alertas' : k)}
                      fill={OUTCOME_COLORS[k] ?? '#ad1457'}
                      isAnimationActive={false}
                    />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </div>
          </section>
          {r.definitions && r.definitions.length > 0 && (
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
              disabled={busy !== null || r === null}
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
