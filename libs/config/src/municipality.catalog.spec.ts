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
