import { ALERT_EVENT_TYPES, AuthenticatedUser, Envelope } from './live-event.deps';

/** Topics the gateway pushes to open pages (logical names). `tracking.v1` may not exist yet: tolerated. */
export const LIVE_TOPICS = ['alerts.v1', 'publications.v1', 'tasks.v1', 'tracking.v1'] as const;
export type LiveTopic = (typeof LIVE_TOPICS)[number];

/** What an open page receives for one event: enough to apply it or to know what to refetch. */
export interface LiveEvent {
  id: string;
  type: string;
  topic: LiveTopic;
  alertId: string;
  occurredAt: string;
  producer: string;
  data: Record<string, unknown>;
}

/**
 * The pushed form of an event. Alert events travel without the ficha (the page refetches the alert
 * from intake, which applies the reader's role); publication, task and tracking payloads carry ids,
 * handles, states, reasons and times only, by contract, and go as they are.
 */
export function toLiveEvent(topic: LiveTopic, event: Envelope): LiveEvent {
  const p = (event.payload ?? {}) as Record<string, unknown>;
  let data: Record<string, unknown>;
  switch (event.type) {
    case ALERT_EVENT_TYPES.activated:
      data = pick(p, ['folio', 'version', 'activatedAt']);
      break;
    case ALERT_EVENT_TYPES.updated:
      data = pick(p, ['folio', 'version', 'changedFields']);
      break;
    case ALERT_EVENT_TYPES.deactivated:
      data = pick(p, ['folio', 'version', 'outcome', 'deactivatedAt']);
      break;
    default:
      data = topic === 'alerts.v1' ? {} : { ...p };
  }
  return {
    id: event.eventId,
    type: event.type,
    topic,
    alertId: event.alertId,
    occurredAt: event.occurredAt,
    producer: event.producer,
    data,
  };
}

/**
 * Who may see an event live: the same people who may read what it is about. Operadora, comité and
 * admin read every alert's publications, tasks and timeline; an area user reads the public state of
 * alerts and its own area's tasks only (never publications, nor other areas' tasks).
 */
export function visibleTo(user: Pick<AuthenticatedUser, 'role' | 'areaId'>, event: LiveEvent): boolean {
  if (user.role !== 'area') return true;
  if (event.topic === 'alerts.v1') return Object.values(ALERT_EVENT_TYPES).includes(event.type as never);
  if (event.topic === 'tasks.v1') return event.data.areaId === user.areaId;
  if (event.topic === 'tracking.v1') return event.type === 'AlertClosed';
  return false;
}

function pick(p: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (p[k] !== undefined) out[k] = p[k];
  return out;
}
