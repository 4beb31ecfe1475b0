import { MunicipalityCatalog, normalizeName } from './municipality.catalog';

describe('municipality catalogue', () => {
  const catalog = MunicipalityCatalog.load();

  it("holds Oaxaca's 570 municipalities", () => {
    expect(catalog.size).toBe(570);
  });

  it('finds a municipality by INEGI code', () => {
    expect(catalog.byInegiCode('20067')?.name).toBe('Oaxaca de Juárez');
    expect(catalog.byInegiCode('20999')).toBeUndefined();
  });

  it('matches names without accents or case', () => {
    expect(normalizeName('  Santa  Lucía del CAMINO ')).toBe('santa lucia del camino');
    expect(catalog.byNormalizedName('oaxaca de juarez')?.code).toBe('20067');
  });
});

describe('municipality search (the ficha form)', () => {
  const catalog = MunicipalityCatalog.load();

  it('ignores accents and case and puts names that start with the query first', () => {
    const found = catalog.search('OAXACA DE JUAREZ');
    expect(found[0]).toMatchObject({ code: '20067', name: 'Oaxaca de Juárez' });
    const huaj = catalog.search('huajuapan');
    expect(huaj.map((m) => m.name)).toContain('Heroica Ciudad de Huajuapan de León');
  });

  it('finds words inside a name and by INEGI code, and nothing for an empty query', () => {
    expect(catalog.search('lucia del camino').map((m) => m.name)).toContain('Santa Lucía del Camino');
    expect(catalog.search('20067')[0].name).toBe('Oaxaca de Juárez');
    expect(catalog.search('   ')).toEqual([]);
    expect(catalog.search('san', 5)).toHaveLength(5);
  });
});
