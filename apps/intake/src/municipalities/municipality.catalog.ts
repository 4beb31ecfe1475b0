import { configFile } from '@alerta-rosa/config';
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

/** Oaxaca's 570 municipalities (INEGI catalogue), shipped with the project under config/data. */
export class MunicipalityCatalog {
  private readonly byCode = new Map<string, Municipality>();
  private readonly byName = new Map<string, Municipality>();

  constructor(rows: Municipality[]) {
    for (const m of rows) {
      this.byCode.set(m.code, m);
      this.byName.set(normalizeName(m.name), m);
    }
  }

  static load(path = configFile('data/oaxaca-municipios.csv')): MunicipalityCatalog {
    const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/).slice(1);
    return new MunicipalityCatalog(
      lines.map((line) => {
        const [code, name, lat, lng] = line.split(',');
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
}
