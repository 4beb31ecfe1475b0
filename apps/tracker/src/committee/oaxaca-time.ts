/** Oaxaca's civil time (America/Mexico_City): times are stored in UTC and shown in it. */
export const OAXACA_TZ = 'America/Mexico_City';

const offsetFormat = new Intl.DateTimeFormat('en-US', { timeZone: OAXACA_TZ, timeZoneName: 'longOffset' });
const partsFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: OAXACA_TZ,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** UTC offset in force in Oaxaca at an instant, as ±hh:mm (−06:00 since 2022; −05:00 in older summers). */
export function oaxacaOffset(at: Date): string {
  const name = offsetFormat.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT-06:00';
  const m = /GMT([+-]\d{2}):?(\d{2})?/.exec(name);
  return m ? `${m[1]}:${m[2] ?? '00'}` : '+00:00';
}

/** Midnight in Oaxaca of a calendar date (YYYY-MM-DD). */
export function oaxacaMidnight(date: string): Date {
  const noonUtc = new Date(`${date}T12:00:00Z`);
  return new Date(`${date}T00:00:00${oaxacaOffset(noonUtc)}`);
}

/** An instant in Oaxaca's time with its offset, e.g. 2026-11-27T14:00:00-06:00 (CSV, PDF). */
export function oaxacaIso(at: Date | null | undefined): string {
  if (!at) return '';
  const p = Object.fromEntries(partsFormat.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${oaxacaOffset(at)}`;
}

/** «27 de noviembre de 2026, 14:00 h» for people. */
export function oaxacaHuman(at: Date): string {
  return `${new Intl.DateTimeFormat('es-MX', {
    timeZone: OAXACA_TZ,
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(at)} h`;
}
