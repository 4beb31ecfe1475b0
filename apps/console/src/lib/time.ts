/** Every time a person reads is Oaxaca's (America/Mexico_City); times travel and are stored in UTC. */
export const TIME_ZONE = 'America/Mexico_City';

const dateTime = new Intl.DateTimeFormat('es-MX', {
  timeZone: TIME_ZONE,
  day: '2-digit',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});
const timeOnly = new Intl.DateTimeFormat('es-MX', {
  timeZone: TIME_ZONE,
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});
const parts = new Intl.DateTimeFormat('en-CA', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** «27 nov 2026, 14:05» in Oaxaca time. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return dateTime.format(new Date(iso));
}

/** «14:05:09» in Oaxaca time. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return timeOnly.format(new Date(iso));
}

function wallParts(d: Date): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parts.formatToParts(d)) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** Offset of Oaxaca's wall clock from UTC at an instant, in minutes (−360 for UTC−6). */
export function offsetMinutesAt(d: Date): number {
  const w = wallParts(d);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(d.getTime() / 1000) * 1000) / 60_000);
}

/**
 * A wall time typed in an `<input type="datetime-local">` («2026-11-27T14:00»), read as Oaxaca time,
 * to ISO 8601 with its offset («2026-11-27T14:00:00-06:00»), as the APIs require.
 */
export function wallTimeToIso(local: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map((v) => Number(v ?? 0));
  const guess = Date.UTC(y, mo - 1, d, h, mi, s);
  // The offset at the instant itself (twice: an offset change between guess and result settles).
  let offset = offsetMinutesAt(new Date(guess));
  offset = offsetMinutesAt(new Date(guess - offset * 60_000));
  const sign = offset <= 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${pad(s)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The reverse, for pre-filling an input: an instant as Oaxaca wall time «YYYY-MM-DDTHH:mm». */
export function isoToWallTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const w = wallParts(new Date(iso));
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

/** «3 h 20 min», «2 d 4 h», «45 s»: how long since `iso` (or between two instants). */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function ageOf(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  return formatDuration(now - Date.parse(iso));
}
