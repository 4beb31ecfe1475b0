import { TimelineEntry } from '../../api/types';

export interface LanePoint {
  t: number;
  lane: number;
  laneName: string;
  label: string;
  kind: 'ok' | 'fail' | 'info' | 'escalation' | 'withdrawal';
}

const PLATFORM_LANE: Record<string, string> = {
  x: 'Publicaciones X',
  facebook: 'Publicaciones Facebook',
  webhook: 'Publicaciones socios',
};

/** Which lane an entry of the timeline is drawn on (null: not drawn, e.g. receipts and mails). */
export function laneOf(e: TimelineEntry): { lane: string; kind: LanePoint['kind'] } | null {
  const d = e.details;
  switch (e.type) {
    case 'AlertActivated':
    case 'AlertUpdated':
      return { lane: 'Alerta', kind: 'info' };
    case 'AlertDeactivated':
      return { lane: 'Localización', kind: 'ok' };
    case 'PublicationSucceeded':
      return { lane: PLATFORM_LANE[d.platform] ?? 'Publicaciones', kind: 'ok' };
    case 'PublicationFailed':
    case 'AccountAuthRevoked':
      return { lane: PLATFORM_LANE[d.platform] ?? 'Publicaciones', kind: 'fail' };
    case 'PublicationWithdrawn':
    case 'AlertWithdrawalCompleted':
      return { lane: 'Retiro', kind: 'withdrawal' };
    case 'PublicationWithdrawalDelayed':
      return { lane: 'Retiro', kind: 'fail' };
    case 'TaskEscalated':
      return { lane: 'Escalamientos', kind: 'escalation' };
    case 'TaskAssigned':
    case 'TaskAcknowledged':
    case 'TaskProgressReported':
    case 'TaskCompleted':
    case 'TaskCancelled':
      return { lane: `Tarea: ${d.areaName ?? d.areaId}`, kind: e.type === 'TaskCancelled' ? 'info' : 'ok' };
    case 'AlertClosed':
      return { lane: 'Localización', kind: 'info' };
    default:
      return null;
  }
}

/** Points of the swimlane chart, lanes in a fixed reading order (alert, publications, tasks, escalations, location, withdrawal). */
export function swimlanes(entries: TimelineEntry[]): { lanes: string[]; points: LanePoint[] } {
  const placed = entries.flatMap((e) => {
    const l = laneOf(e);
    return l ? [{ e, ...l }] : [];
  });
  // Task lanes are named after the assignment (which carries areaName); later events carry only areaId.
  const areaNames = new Map<string, string>();
  for (const p of placed)
    if (p.e.type === 'TaskAssigned') areaNames.set(String(p.e.details.areaId), String(p.e.details.areaName));
  for (const p of placed) {
    if (p.lane.startsWith('Tarea: '))
      p.lane = `Tarea: ${areaNames.get(String(p.e.details.areaId)) ?? p.e.details.areaId}`;
  }
  const order = (name: string) =>
    name === 'Alerta'
      ? 0
      : name.startsWith('Publicaciones')
        ? 1
        : name.startsWith('Tarea')
          ? 2
          : name === 'Escalamientos'
            ? 3
            : name === 'Localización'
              ? 4
              : 5;
  const lanes = [...new Set(placed.map((p) => p.lane))].sort(
    (a, b) => order(a) - order(b) || a.localeCompare(b, 'es'),
  );
  return {
    lanes,
    points: placed.map((p) => ({
      t: Date.parse(p.e.occurredAt),
      lane: lanes.indexOf(p.lane),
      laneName: p.lane,
      label: p.e.label,
      kind: p.kind,
    })),
  };
}
