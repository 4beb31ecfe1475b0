import { api } from '../../api/client';

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

/** A figure's definition, as the tracker returns it with the figures (texts in Spanish). */
export interface Definition {
  key: string;
  label: string;
  counts: string;
  excludes: string;
  openAlerts: string;
  unit: string;
}

/** Seconds; n alerts or tasks counted, the rest excluded for the reasons given. */
export interface DurationFigure {
  n: number;
  median: number | null;
  p90: number | null;
  excluded: number;
  excludedReasons: Record<string, number>;
}

export interface Quantiles {
  n: number;
  median: number | null;
  p90: number | null;
}

export interface LocatedWithin {
  located: number;
  eligible: number;
  share: number | null;
  excluded: number;
}

/** GET /api/v1/committee/period (apps/tracker/src/committee/committee.service.ts). */
export interface PeriodReport {
  period: { from: string; to: string; asOf: string; timeZone: string };
  counts: {
    total: number;
    byOutcome: Record<string, number>;
    byRegion: { id: string; name: string; count: number; byOutcome: Record<string, number> }[];
    byMunicipality: { code: string; name: string; avgm: boolean; count: number }[];
    byAvgm: { avgm: number; other: number };
    escalations: { total: number; alertsWithEscalations: number; highestLevel: number };
    updates: { total: number; alertsWithUpdates: number };
  };
  durations: Record<string, DurationFigure>;
  locatedWithin24h: LocatedWithin;
  locatedWithin72h: LocatedWithin;
  accounts: {
    accountId: string;
    platform: string;
    handle: string;
    publications: number;
    failed: number;
    failureRate: number | null;
    photoPosts: number;
    withdrawn: number;
    stillUp: number;
    withdrawal: Quantiles;
  }[];
  areas: {
    areaId: string;
    areaName: string | null;
    tasks: number;
    acknowledged: number;
    due: number;
    acknowledgedOnTime: number;
    shareOnTime: number | null;
    escalations: number;
    acknowledgement: Quantiles;
    completion: Quantiles;
  }[];
  outcomeLabels: Record<string, string>;
  definitions: Definition[];
}

/** One alert's figures (GET /api/v1/committee/alerts[/:id]). */
export interface AlertFigures {
  alertId: string;
  folio: string | null;
  status: string;
  outcome: string | null;
  activatingBody: string | null;
  minor: boolean | null;
  municipality: { code: string | null; name: string | null; avgm: boolean | null };
  region: { id: string; name: string } | null;
  reportedAt: string | null;
  activatedAt: string | null;
  deactivatedAt: string | null;
  closedAt: string | null;
  closedBy: string | null;
  updates: number;
  escalations: { count: number; highestLevel: number | null };
  photoPosts: { total: number; withdrawn: number; stillUp: number };
  durations: Record<string, number | null>;
  publicationsByPlatform: Record<string, { activatedToFirst: number | null; activatedToLast: number | null }>;
  areas: {
    areaId: string;
    areaName: string | null;
    tasks: number;
    acknowledgementSeconds: number | null;
    completionSeconds: number | null;
    acknowledgedOnTime: boolean | null;
    escalations: number;
  }[];
}

export interface CommitteeAlerts {
  total: number;
  limit: number;
  offset: number;
  items: AlertFigures[];
  definitions: Definition[];
}

/** The tracker's committee API (role comite or admin). */
export const committee = {
  alerts: (query: string) => api<CommitteeAlerts>(`/api/v1/committee/alerts${query}`),
  period: (query: string) => api<PeriodReport>(`/api/v1/committee/period${query}`),
  alert: (id: string) => api<AlertFigures & { definitions: Definition[] }>(`/api/v1/committee/alerts/${id}`),
};

/** A share (0..1) as a Spanish percentage, or «sin dato». */
export function percent(share: number | null | undefined): string {
  return share === null || share === undefined
    ? 'sin dato'
    : `${(share * 100).toFixed(1).replace('.', ',')} %`;
}
