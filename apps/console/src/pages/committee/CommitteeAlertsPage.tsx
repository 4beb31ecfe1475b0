import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { Alert } from '../../api/types';
import { Badge, ErrorNote, Loading } from '../../components/Common';
import { ALERT_STATUS_LABELS, OUTCOME_LABELS } from '../../lib/labels';
import { formatDateTime, formatDuration } from '../../lib/time';
import { EMPTY_FILTERS, NOT_YET, committee, filterQuery } from './committee';
import { Filters } from './Filters';

/** The committee's alert list: the tracker's per-alert figures, or intake's list until it has them. */
export default function CommitteeAlertsPage() {
  const [filters, setFilters] = useState(EMPTY_FILTERS);
  const query = filterQuery(filters);
  const figures = useQuery({ queryKey: ['committee-alerts', query], queryFn: () => committee.alerts(query) });
  const fallback = useQuery({
    queryKey: ['alerts'],
    queryFn: () => api<{ items: Alert[] }>('/api/v1/alerts?limit=200'),
    enabled: figures.data === null,
  });

  const rows: {
    id: string;
    folio: string;
    status: string;
    outcome: string | null;
    place: string;
    at: string | null;
    extra: [string, string][];
  }[] = figures.data
    ? figures.data.items.map((it) => ({
        id: String(it.alertId ?? it.id),
        folio: String(it.folio ?? '—'),
        status: String(it.status ?? ''),
        outcome: (it.outcome as string | null) ?? null,
        place: [it.municipalityName, it.regionName ?? it.region].filter(Boolean).join(' · '),
        at: (it.activatedAt as string | null) ?? null,
        extra: Object.entries((it.durations ?? {}) as Record<string, number | null>)
          .filter(([, v]) => typeof v === 'number')
          .slice(0, 3)
          .map(([k, v]) => [
            figures.data?.definitions?.find((d) => d.key === k)?.label ?? k,
            formatDuration((v as number) * 1000),
          ]),
      }))
    : (fallback.data?.items ?? [])
        .filter((a) => a.status !== 'draft' && a.status !== 'discarded')
        .filter((a) => !filters.outcome || a.outcome === filters.outcome)
        .filter((a) => !filters.municipality || a.ficha.municipalityCode === filters.municipality)
        .filter((a) => !filters.minor || String(Boolean(a.ficha.isMinor)) === filters.minor)
        .filter((a) => !filters.activatingBody || a.activatingBody === filters.activatingBody)
        .filter((a) => !filters.from || (a.activatedAt ?? '') >= `${filters.from}`)
        .map((a) => ({
          id: a.id,
          folio: a.folio ?? '—',
          status: a.status,
          outcome: a.outcome,
          place: a.ficha.municipalityName,
          at: a.activatedAt,
          extra: [],
        }));

  return (
    <section className="page" aria-labelledby="committee-title">
      <h1 id="committee-title">Comité Estatal: alertas</h1>
      <Filters value={filters} onChange={setFilters} />
      {figures.data === null && (
        <p className="note" role="note">
          {NOT_YET} Se muestran las alertas registradas.
        </p>
      )}
      {(figures.isPending || (figures.data === null && fallback.isPending)) && <Loading />}
      <ErrorNote error={figures.error ?? fallback.error} />
      {rows.length === 0 && !figures.isPending && <p>No hay alertas con esos filtros.</p>}
      {rows.length > 0 && (
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
                <th scope="col">Cifras</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-alert={r.id}>
                  <td>
                    <Link to={`/comite/alertas/${r.id}`}>{r.folio}</Link>
                  </td>
                  <td>
                    <Badge tone={r.status}>{ALERT_STATUS_LABELS[r.status] ?? r.status}</Badge>
                  </td>
                  <td>{r.outcome ? (OUTCOME_LABELS[r.outcome] ?? r.outcome) : '—'}</td>
                  <td>{r.place}</td>
                  <td>{formatDateTime(r.at)}</td>
                  <td className="small">{r.extra.map(([k, v]) => `${k}: ${v}`).join(' · ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
