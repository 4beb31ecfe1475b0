import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parse, stringify } from 'yaml';
import { AreaDirectory } from '../areas/area-directory';
import { ConfigDataError } from './config-data.error';
import { PsoCatalog } from './pso.catalog';
import { planTasks } from './pso.planner';
import { PsoVersion } from './pso.schema';

const ROOT = join(__dirname, '../../../..');

/** A copy of config/ in a temp folder, so a test can add or break files. */
function configCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pso-'));
  mkdirSync(join(dir, 'pso'));
  mkdirSync(join(dir, 'data'));
  copyFileSync(join(ROOT, 'config/areas.yaml'), join(dir, 'areas.yaml'));
  copyFileSync(join(ROOT, 'config/pso/pso-2018.1.yaml'), join(dir, 'pso/pso-2018.1.yaml'));
  copyFileSync(join(ROOT, 'config/data/oaxaca-municipios.csv'), join(dir, 'data/oaxaca-municipios.csv'));
  return dir;
}

function withConfigDir<T>(dir: string, fn: () => T): T {
  const previous = process.env.CONFIG_DIR;
  process.env.CONFIG_DIR = dir;
  try {
    return fn();
  } finally {
    if (previous === undefined) delete process.env.CONFIG_DIR;
    else process.env.CONFIG_DIR = previous;
  }
}

describe('PSO as data', () => {
  const directory = withConfigDir(join(ROOT, 'config'), () => AreaDirectory.load());
  const catalog = withConfigDir(join(ROOT, 'config'), () => PsoCatalog.load('pso', directory));
  const base = catalog.inForceAt(new Date());
  const at = new Date('2026-11-28T12:00:00Z');

  it('ships the default PSO: seven steps, step 6 only where a «Mujer Segura» unit exists', () => {
    expect(base.version).toBe('2018.1');
    const oaxaca = planTasks(base, directory, { activatedAt: at, age: 30, municipalityCode: '20067' });
    expect(oaxaca.tasks.map((t) => t.step.order)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(oaxaca.tasks[5].area.id).toBe('mujer-segura-oaxaca-de-juarez');
    const tuxtepec = planTasks(base, directory, { activatedAt: at, age: 30, municipalityCode: '20184' });
    expect(tuxtepec.tasks.map((t) => t.step.order)).toEqual([1, 2, 3, 4, 5, 7]);
    expect(tuxtepec.regionId).toBe('cuenca');
    expect(tuxtepec.tasks[2].area.id).toBe('policia-estatal-cuenca');
  });

  it('gives all 570 municipalities a region, the ten «Mujer Segura» ones a unit', () => {
    const csv = readFileSync(join(ROOT, 'config/data/oaxaca-municipios.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    const regions = new Set(csv.map((l) => directory.regionOfMunicipality(l.split(',')[0])));
    expect(regions.size).toBe(8);
    expect(directory.data.mujerSegura).toHaveLength(10);
    // Unlisted municipality: region of the nearest listed one (Santa María del Tule, next to Oaxaca de Juárez).
    expect(directory.regionOfMunicipality('20409')).toBe('valles-centrales');
  });

  it('applies the minor and region conditions and scales deadlines and the escalation chain', () => {
    const pso: PsoVersion = {
      ...base,
      steps: [
        ...base.steps,
        { ...base.steps[6], id: 'amber', order: 8, when: { minor: true } },
        { ...base.steps[6], id: 'istmo-only', order: 9, when: { regions: ['istmo'] } },
      ],
    };
    const girl = planTasks(pso, directory, { activatedAt: at, age: 17, municipalityCode: '20079' }, 0.5);
    expect(girl.minor).toBe(true);
    expect(girl.tasks.map((t) => t.step.id)).toEqual(expect.arrayContaining(['amber', 'istmo-only']));
    const woman = planTasks(pso, directory, { activatedAt: at, age: 18, municipalityCode: '20067' });
    expect(woman.tasks.map((t) => t.step.id)).not.toContain('amber');
    expect(woman.tasks.map((t) => t.step.id)).not.toContain('istmo-only');
    const first = girl.tasks[0];
    expect(first.ackDueAt.getTime() - at.getTime()).toBe(5 * 60_000); // 10 min × 0.5
    expect(first.escalations.map((e) => [e.target, (e.dueAt.getTime() - at.getTime()) / 60_000])).toEqual([
      ['area_supervisor', 5],
      ['duty_officer', 10],
      ['direccion', 15],
    ]);
  });

  it('uses the version in force at activation, so a new version never changes earlier alerts', () => {
    const dir = configCopy();
    const next = parse(readFileSync(join(dir, 'pso/pso-2018.1.yaml'), 'utf8'));
    next.version = '2027.1';
    next.effectiveFrom = '2027-01-01T00:00:00-06:00';
    next.steps = next.steps.filter((s: { order: number }) => s.order !== 5);
    writeFileSync(join(dir, 'pso/pso-2027.1.yaml'), stringify(next));
    const two = withConfigDir(dir, () => PsoCatalog.load('pso', AreaDirectory.load()));
    expect(two.versions.map((v) => v.version)).toEqual(['2018.1', '2027.1']);
    expect(two.inForceAt(new Date('2026-12-31T23:00:00Z')).version).toBe('2018.1');
    expect(two.inForceAt(new Date('2027-02-01T00:00:00Z')).version).toBe('2027.1');
  });

  it('refuses a bad PSO file at start-up with a message naming the file and the field', () => {
    const dir = configCopy();
    const bad = parse(readFileSync(join(dir, 'pso/pso-2018.1.yaml'), 'utf8'));
    bad.steps[1].ackWithinMinutes = -3;
    bad.steps[2].area = { kind: 'area', id: 'no-such-area' };
    writeFileSync(join(dir, 'pso/pso-2018.1.yaml'), stringify(bad));
    expect(() => withConfigDir(dir, () => PsoCatalog.load('pso', AreaDirectory.load()))).toThrow(
      'config/pso/pso-2018.1.yaml: steps.1.ackWithinMinutes: Too small: expected number to be >0',
    );
    bad.steps[1].ackWithinMinutes = 10;
    writeFileSync(join(dir, 'pso/pso-2018.1.yaml'), stringify(bad));
    expect(() => withConfigDir(dir, () => PsoCatalog.load('pso', AreaDirectory.load()))).toThrow(
      'steps.2.area.id: unknown area "no-such-area"',
    );
  });

  it('refuses an area directory with an unknown municipality or a missing regional delegation', () => {
    const dir = configCopy();
    const areas = parse(readFileSync(join(dir, 'areas.yaml'), 'utf8'));
    areas.mujerSegura[0].municipalityCode = '20999';
    delete areas.regions[1].delegations['policia-estatal'];
    writeFileSync(join(dir, 'areas.yaml'), stringify(areas));
    let error: ConfigDataError | undefined;
    try {
      withConfigDir(dir, () => AreaDirectory.load());
    } catch (err) {
      error = err as ConfigDataError;
    }
    expect(error).toBeInstanceOf(ConfigDataError);
    expect(error!.message).toContain('config/areas.yaml');
    expect(error!.problems).toEqual(
      expect.arrayContaining([
        'mujerSegura.0.municipalityCode: unknown municipality 20999',
        'regions.costa.delegations: missing "policia-estatal"',
      ]),
    );
  });
});
