import { ApiError } from '@alerta-rosa/http';
import { parseCommitteeQuery } from './committee.query';
import { GeographyCatalog } from './geography.catalog';
import { oaxacaIso, oaxacaMidnight } from './oaxaca-time';

const geography = GeographyCatalog.load();

function fields(query: Record<string, unknown>): string[] {
  try {
    parseCommitteeQuery(query, geography);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const body = (err as ApiError).getResponse() as { code: string; fields: { path: string }[] };
    expect(body.code).toBe('VALIDATION_FAILED');
    return body.fields.map((f) => f.path);
  }
}

describe('committee query', () => {
  it('reads a bare date as midnight in Oaxaca and defaults to this year so far', () => {
    const f = parseCommitteeQuery({ from: '2025-03-01', to: '2025-04-01T00:00:00Z' }, geography);
    expect(f.from.toISOString()).toBe('2025-03-01T06:00:00.000Z');
    expect(f.to.toISOString()).toBe('2025-04-01T00:00:00.000Z');
    const now = new Date('2026-06-15T12:00:00Z');
    const d = parseCommitteeQuery({}, geography, now);
    expect(d.from.toISOString()).toBe('2026-01-01T06:00:00.000Z');
    expect(d.to).toEqual(now);
  });

  it('names every bad parameter', () => {
    expect(fields({ outcome: 'perdida', avgm: 'quizas', color: 'rosa' }).sort()).toEqual([
      'avgm',
      'color',
      'outcome',
    ]);
    expect(fields({ region: 'luna' })).toEqual(['region']);
    expect(fields({ municipality: '20999' })).toEqual(['municipality']);
    expect(fields({ from: '2025-05-01', to: '2025-01-01' })).toEqual(['to']);
    expect(fields({ region: 'istmo', municipality: '20079', minor: 'true', outcome: 'open' })).toEqual([]);
  });

  it('places municipalities not listed in a region in the nearest listed one, and knows the AVGM list', () => {
    expect(geography.regionIdOf('20079')).toBe('istmo');
    expect(geography.regionIdOf('20001')).not.toBeNull();
    expect(geography.isAvgm('20079')).toBe(true);
    expect(geography.isAvgm('20067')).toBe(false);
  });

  it('writes Oaxaca time with its offset (−05:00 in older summers, −06:00 since 2022)', () => {
    expect(oaxacaIso(new Date('2025-03-01T18:00:00Z'))).toBe('2025-03-01T12:00:00-06:00');
    expect(oaxacaIso(new Date('2020-07-01T17:00:00Z'))).toBe('2020-07-01T12:00:00-05:00');
    expect(oaxacaMidnight('2020-07-01').toISOString()).toBe('2020-07-01T05:00:00.000Z');
  });
});
