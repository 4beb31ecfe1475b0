import { MunicipalityCatalog } from '../municipalities/municipality.catalog';
import { FichaBuilder, changedPublicFields, duplicateKeyOf } from './ficha.builder';

const catalog = MunicipalityCatalog.load();
const builder = new FichaBuilder(catalog, ['SSP', 'FGEO']);
const base = {
  fullName: 'Ana Martínez López',
  age: 24,
  municipalityCode: '20067',
  lastSeenAt: '2026-11-27T10:00:00Z',
};
const reportedAt = '2026-11-27T12:00:00Z';
const fieldsOf = (fn: () => unknown) => {
  try {
    fn();
    return [];
  } catch (err) {
    return (err as { getResponse(): { fields: { path: string; code: string }[] } })
      .getResponse()
      .fields.map((f) => `${f.path}:${f.code}`);
  }
};

describe('FichaBuilder', () => {
  it('loads the 570 municipalities, quoted names included', () => {
    expect(catalog.size).toBe(570);
    expect(catalog.byInegiCode('20549')?.name).toBe(
      'Heroica Villa Tezoatlán de Segura y Luna, Cuna de la Independencia de Oaxaca',
    );
  });

  it('resolves a municipality by name without accents, case or the «Heroica Ciudad de» prefix', () => {
    const f = builder.build(
      { ...base, municipalityCode: undefined, municipalityName: 'HUAJUAPAN DE LEON' },
      reportedAt,
      null,
    );
    expect([f.municipalityCode, f.municipalityName]).toEqual([
      '20039',
      'Heroica Ciudad de Huajuapan de León',
    ]);
  });

  it('derives the minor flag and keeps the Amber folio only for minors', () => {
    expect(builder.build({ ...base, age: 17, amberFolio: 'A-1' }, reportedAt, null)).toMatchObject({
      isMinor: true,
      amberFolio: 'A-1',
    });
    expect(fieldsOf(() => builder.build({ ...base, amberFolio: 'A-1' }, reportedAt, null))).toEqual([
      'amberFolio:amber_requires_minor',
    ]);
  });

  it('reports every problem at once', () => {
    expect(
      fieldsOf(() =>
        builder.build(
          { ...base, municipalityCode: '20999', activatingBody: 'CIA', lastSeenAt: '2026-11-28T10:00:00Z' },
          reportedAt,
          null,
        ),
      ),
    ).toEqual([
      'municipalityCode:unknown_municipality',
      'activatingBody:unknown_activating_body',
      'lastSeenAt:after_report',
    ]);
  });

  it('sets photoUrl only with consent', () => {
    const photo = { url: 'http://x/public/photos/p/full.jpg' };
    expect(builder.build(base, reportedAt, photo).photoUrl).toBeNull();
    const f = builder.build({ ...base, photoConsent: true }, reportedAt, photo);
    expect(f.photoUrl).toBe(photo.url);
    expect(f.photoAltText).toBe('Fotografía de Ana Martínez López, 24 años');
  });

  it('names changed fields and matches duplicates by normalised name and age', () => {
    const a = builder.build(base, reportedAt, null);
    const b = builder.build({ ...base, clothing: 'Sudadera' }, reportedAt, null);
    expect(changedPublicFields(a, b)).toEqual(['clothing']);
    expect(duplicateKeyOf({ fullName: 'ANA  martinez lopez', age: 24 })).toBe(duplicateKeyOf(a));
  });
});
