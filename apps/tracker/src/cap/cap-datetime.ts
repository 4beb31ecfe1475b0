/** Where CAP times are shown: the alerts concern Oaxaca (DOMAIN: stored in UTC, shown in Mexico City time). */
export const CAP_TIME_ZONE = 'America/Mexico_City';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * A CAP 1.2 dateTime: `YYYY-MM-DDThh:mm:ss±hh:mm` in the given zone, with a numeric offset, no `Z`
 * and no fractional seconds (truncated); an offset of zero is written `-00:00` as the standard asks.
 * `Date.toISOString()` output (`…:00.000Z`) is not valid CAP.
 */
export function capDateTime(date: Date, timeZone = CAP_TIME_ZONE): string {
  if (Number.isNaN(date.getTime())) throw new Error('capDateTime: invalid date');
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  // longOffset is «GMT-06:00», or plain «GMT» when the offset is zero.
  const offset = /^GMT([+-]\d{2}:\d{2})$/.exec(parts.timeZoneName ?? '')?.[1] ?? '-00:00';
  const zeroed = offset === '+00:00' ? '-00:00' : offset;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${zeroed}`;
}

/** The instant a message is sent, to the second (CAP carries no fractions; the stored time must match it). */
export function wholeSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/** RFC 3339 for Atom (`2026-11-27T20:00:00Z`), to the second. */
export function atomDateTime(date: Date): string {
  return wholeSecond(date).toISOString().replace('.000Z', 'Z');
}
