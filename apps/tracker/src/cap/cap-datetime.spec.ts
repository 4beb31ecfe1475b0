import { atomDateTime, capDateTime, wholeSecond } from './cap-datetime';

const CAP_PATTERN = /^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$/;

describe('CAP dateTime', () => {
  it('writes Mexico City time with a numeric offset and no fractional seconds', () => {
    expect(capDateTime(new Date('2026-11-27T20:00:00.987Z'))).toBe('2026-11-27T14:00:00-06:00');
  });

  it('writes an offset of zero as -00:00, never Z or +00:00', () => {
    expect(capDateTime(new Date('2026-11-27T20:00:00Z'), 'UTC')).toBe('2026-11-27T20:00:00-00:00');
  });

  it('crosses midnight into the previous local day', () => {
    expect(capDateTime(new Date('2026-01-01T03:30:05Z'))).toBe('2025-12-31T21:30:05-06:00');
  });

  it('keeps other zones’ offsets, including half hours', () => {
    expect(capDateTime(new Date('2026-06-01T12:00:00Z'), 'Asia/Kolkata')).toBe('2026-06-01T17:30:00+05:30');
  });

  it('matches the pattern of the OASIS schema and names the same instant (to the second)', () => {
    const d = new Date('2026-03-09T08:07:06.5Z');
    const s = capDateTime(d);
    expect(s).toMatch(CAP_PATTERN);
    expect(new Date(s).getTime()).toBe(wholeSecond(d).getTime());
    expect(s).not.toContain(d.toISOString());
  });

  it('refuses an invalid date', () => {
    expect(() => capDateTime(new Date('nope'))).toThrow('invalid date');
  });

  it('writes Atom dates as RFC 3339 without fractions', () => {
    expect(atomDateTime(new Date('2026-11-27T20:00:00.123Z'))).toBe('2026-11-27T20:00:00Z');
  });
});
