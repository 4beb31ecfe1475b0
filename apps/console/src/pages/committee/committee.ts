import { apiOptional } from '../../api/client';

/** Oaxaca's 8 regions (ids as in config/areas.yaml). */
export const REGIONS: [string, string][] = [
  ['valles-centrales', 'Valles Centrales'],
  ['costa', 'Costa'],
  ['istmo', 'Istmo'],
  ['mixteca', 'Mixteca'],
  ['cuenca', 'Cuenca del Papaloapan'],
  ['canada', 'Cañada'],
  ['sierra-norte', 'Sierra Norte'],
  ['sierra-sur', 'Sierra Sur'],
];

export interface CommitteeFilters {
  from: string;
  to: string;
  outcome: string;
  region: string;
  municipality: string;
  avgm: string;
  minor: string;
  activatingBody: string;
}

export const EMPTY_FILTERS: CommitteeFilters = {
  from: '',
  to: '',
  outcome: '',
  region: '',
  municipality: '',
  avgm: '',
  minor: '',
  activatingBody: '',
};

/** Dates typed as Oaxaca days: from 00:00 of the first to 24:00 of the last (UTC−6). */
export function filterQuery(f: CommitteeFilters): string {
  const q = new URLSearchParams();
  if (f.from) q.set('from', `${f.from}T00:00:00-06:00`);
  if (f.to) q.set('to', new Date(Date.parse(`${f.to}T00:00:00-06:00`) + 86_400_000).toISOString());
  for (const k of ['outcome', 'region', 'municipality', 'avgm', 'minor', 'activatingBody'] as const) {
    if (f[k]) q.set(k, f[k]);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

export interface Definition {
  key: string;
  label: string;
  counts?: string;
  excludes?: string;
  openAlerts?: string;
}

export interface DurationFigure {
  n: number;
  median: number | null;
  p90: number | null;
  excluded?: number;
}

export interface PeriodReport {
  period: { from?: string | null; to?: string | null } | null;
  counts: {
    total: number;
    byOutcome: Record<string, number>;
    byRegion: Record<string, number | Record<string, number>>;
    byMunicipality: Record<string, number | Record<string, number>>;
  };
  durations: Record<string, DurationFigure>;
  locatedWithin24h?: number | null;
  locatedWithin72h?: number | null;
  accounts?: Record<string, unknown>[];
  areas?: Record<string, unknown>[];
  definitions?: Definition[];
}

export interface CommitteeAlerts {
  items: Record<string, any>[];
  definitions?: Definition[];
}

/** The tracker's committee API (being built against CONTRACTS); null while a server does not have it. */
export const committee = {
  alerts: (query: string) => apiOptional<CommitteeAlerts>(`/api/v1/committee/alerts${query}`),
  period: (query: string) => apiOptional<PeriodReport>(`/api/v1/committee/period${query}`),
  alert: (id: string) => apiOptional<Record<string, any>>(`/api/v1/committee/alerts/${id}`),
};

export const NOT_YET =
  'Los indicadores del comité aún no están disponibles en este servidor (el seguimiento los publicará).';
