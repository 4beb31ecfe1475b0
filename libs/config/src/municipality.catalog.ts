import { configFile } from './config-files';
import { readFileSync } from 'fs';

export interface Municipality {
  /** INEGI code: state 20 + three digits. */
  code: string;
  name: string;
  lat: number;
  lng: number;
}

/** Lower-case, accents removed, single spaces: «Huajuapán de León» and «huajuapan de leon» match. */
export function normalizeName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Oaxaca's 570 municipalities (INEGI catalogue, seat coordinates), shipped with the project under
 * config/data. Intake resolves a ficha's municipality with it; the tracker draws the CAP area from it.
 */
export class MunicipalityCatalog {
  private readonly byCode = new Map<string, Municipality>();
  private readonly byName = new Map<string, Municipality>();

  constructor(rows: Municipality[]) {
    const aliases = new Map<string, Municipality[]>();
    for (const m of rows) {
      this.byCode.set(m.code, m);
      this.byName.set(normalizeName(m.name), m);
      const short = normalizeName(m.name).replace(/^heroica (ciudad de |villa de )?/, '');
      if (short !== normalizeName(m.name)) aliases.set(short, [...(aliases.get(short) ?? []), m]);
    }
    // «Huajuapan de León» is how people say «Heroica Ciudad de Huajuapan de León»: the short form
    // matches too, unless it is ambiguous or another municipality's full name.
    for (const [short, list] of aliases) {
      if (list.length === 1 && !this.byName.has(short)) this.byName.set(short, list[0]);
    }
  }

  static load(path = configFile('data/oaxaca-municipios.csv')): MunicipalityCatalog {
    const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/).slice(1);
    return new MunicipalityCatalog(
      lines.map((line) => {
        // The name may be quoted (it can contain a comma).
        const match = /^(\d{5}),("(?:[^"]|"")*"|[^,]*),([^,]*),([^,]*)$/.exec(line);
        if (!match) throw new Error(`bad municipality line: ${line}`);
        const [, code, rawName, lat, lng] = match;
        const name = rawName.startsWith('"') ? rawName.slice(1, -1).replace(/""/g, '"').trim() : rawName;
        return { code, name, lat: Number(lat), lng: Number(lng) };
      }),
    );
  }

  get size(): number {
    return this.byCode.size;
  }

  byInegiCode(code: string): Municipality | undefined {
    return this.byCode.get(code);
  }

  byNormalizedName(name: string): Municipality | undefined {
    return this.byName.get(normalizeName(name));
  }

  /**
   * Municipalities whose name (or INEGI code) contains the query, ignoring accents and case: names that
   * start with it first, then those with a word that does, then the rest; alphabetical within each.
   */
  search(query: string, limit = 20): Municipality[] {
    const q = normalizeName(query);
    if (!q) return [];
    const scored: { m: Municipality; rank: number; name: string }[] = [];
    for (const m of this.byCode.values()) {
      const name = normalizeName(m.name);
      let rank: number;
      if (m.code === q || name === q) rank = 0;
      else if (name.startsWith(q) || m.code.startsWith(q)) rank = 1;
      else if (name.includes(` ${q}`)) rank = 2;
      else if (name.includes(q)) rank = 3;
      else continue;
      scored.push({ m, rank, name });
    }
    scored.sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name, 'es'));
    return scored.slice(0, limit).map((s) => s.m);
  }
}
