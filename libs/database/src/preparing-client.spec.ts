import { MAX_PREPARED_TEXTS, rememberedTexts, statementName } from './preparing-client';

describe('statementName', () => {
  it('names a text by its digest, the same name every time, distinct texts apart', () => {
    const a = statementName('SELECT $1::int AS a');
    expect(a).toMatch(/^ar_[\w-]{22}$/);
    expect(statementName('SELECT $1::int AS a')).toBe(a);
    expect(statementName('SELECT $1::int AS b')).not.toBe(a);
  });

  it('past the cap, runs texts unnamed without remembering them', () => {
    const first = statementName('SELECT $1::int AS first');
    for (let i = 0; rememberedTexts() < MAX_PREPARED_TEXTS; i++) statementName(`SELECT $1::int AS c${i}`);
    for (let i = 0; i < 1_000; i++) expect(statementName(`SELECT $1::int AS over${i}`)).toBeNull();
    expect(rememberedTexts()).toBe(MAX_PREPARED_TEXTS);
    expect(statementName('SELECT $1::int AS first')).toBe(first); // those named keep their name
  });
});
