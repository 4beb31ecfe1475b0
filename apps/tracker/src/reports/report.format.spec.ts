import { formatDuration, formatShare } from './report.format';

describe('report formats', () => {
  it.each([
    [null, '—'],
    [45.4, '45 s'],
    [125, '2 min 05 s'],
    [3_600 * 3 + 20 * 60, '3 h 20 min'],
    [86_400 * 2 + 3_600 * 4, '2 d 4 h'],
  ])('writes %p seconds as %p', (s, text) => expect(formatDuration(s)).toBe(text));

  it('writes shares as percentages with one decimal', () => {
    expect(formatShare(0.5)).toBe('50.0 %');
    expect(formatShare(0.8182)).toBe('81.8 %');
    expect(formatShare(null)).toBe('—');
  });
});
