import { formatDuration, isoToWallTime, offsetMinutesAt, wallTimeToIso } from './time';

describe('console times (America/Mexico_City)', () => {
  it('reads a typed wall time as Oaxaca time with its offset', () => {
    expect(wallTimeToIso('2026-11-27T14:00')).toBe('2026-11-27T14:00:00-06:00');
    expect(Date.parse(wallTimeToIso('2026-11-27T14:00')!)).toBe(Date.parse('2026-11-27T20:00:00Z'));
    expect(wallTimeToIso('27/11/2026 14:00')).toBeNull();
  });

  it('used daylight saving time until 2022 and no longer does', () => {
    expect(offsetMinutesAt(new Date('2021-07-01T12:00:00Z'))).toBe(-300);
    expect(offsetMinutesAt(new Date('2026-07-01T12:00:00Z'))).toBe(-360);
    expect(wallTimeToIso('2021-07-01T10:00')).toBe('2021-07-01T10:00:00-05:00');
  });

  it('shows an instant as the wall time to pre-fill a form', () => {
    expect(isoToWallTime('2026-11-27T20:00:00Z')).toBe('2026-11-27T14:00');
  });

  it('writes durations a person reads at a glance', () => {
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(3 * 3600_000 + 20 * 60_000)).toBe('3 h 20 min');
    expect(formatDuration(52 * 3600_000)).toBe('2 d 4 h');
  });
});
