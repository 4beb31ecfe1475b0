import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { Badge, ErrorNote, Loading } from '../../components/Common';
import { ALERT_STATUS_LABELS, OUTCOME_LABELS } from '../../lib/labels';
import { formatDateTime, formatDuration } from '../../lib/time';
import { EMPTY_FILTERS, committee, filterQuery } from './committee';
import { Filters } from './Filters';

/** Figures shown in the list, in this order (the rest are on the alert's page). */
const LIST_FIGURES = ['reportedToActivated', 'activatedToLocated', 'locatedToLastPhotoWithdrawn'];

/** The committee's alert list: the tracker's per-alert figures for the period and filters chosen. */
export default function CommitteeAlertsPage() {
  const [filters, setFilters] = useState(EMPTY_FILTERS);
  const query = filterQuery(filters);
  const figures = useQuery({
    queryKey: ['committee-alerts', query],
    queryFn: () => committee.alerts(`${query}${query ? '&' : '?'}limit=500`),
  });
  const data = figures.data;
  const label = (key: string) => data?.definitions.find((d) => d.key === key)?.label ?? key;

  return (
    <section className="page" aria-labelledby="committee-title">
      <h1 id="committee-title">Comité Estatal: alertas</h1>
      <Filters value={filters} onChange={setFilters} />
      {figures.isPending && <Loading />}
      <ErrorNote error={figures.error} />
      {data && data.items.length === 0 && <p>No hay alertas con esos filtros.</p>}
      {data && data.items.length > 0 && (
        <>
          <p className="muted small">
            {data.total} alertas
            {data.total > data.items.length ? ` (se muestran las primeras ${data.items.length})` : ''}. «—»:
            la cifra no aplica a esa alerta (las definiciones están en la página de cada alerta).
          </p>
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Alertas del periodo</caption>
              <thead>
                <tr>
                  <th scope="col">Folio</th>
                  <th scope="col">Estado</th>
                  <th scope="col">Resultado</th>
                  <th scope="col">Lugar</th>
                  <th scope="col">Activada</th>
                  {LIST_FIGURES.map((k) => (
                    <th scope="col" key={k}>
                      {label(k)}
                    </th>
                  ))}
                  <th scope="col">Escalamientos</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((it) => (
                  <tr key={it.alertId} data-alert={it.alertId}>
                    <td>
                      <Link to={`/comite/alertas/${it.alertId}`}>{it.folio ?? '—'}</Link>
                    </td>
                    <td>
                      <Badge tone={it.status}>{ALERT_STATUS_LABELS[it.status] ?? it.status}</Badge>
                    </td>
                    <td>{it.outcome ? (OUTCOME_LABELS[it.outcome] ?? it.outcome) : '—'}</td>
                    <td>
                      {[it.municipality.name, it.region?.name].filter(Boolean).join(' · ')}
                      {it.municipality.avgm ? ' (AVGM)' : ''}
                    </td>
                    <td>{formatDateTime(it.activatedAt)}</td>
                    {LIST_FIGURES.map((k) => {
                      const v = it.durations[k];
                      return <td key={k}>{typeof v === 'number' ? formatDuration(v * 1000) : '—'}</td>;
                    })}
                    <td>{it.escalations.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
