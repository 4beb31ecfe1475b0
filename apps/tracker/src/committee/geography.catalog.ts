import { configFile } from '@alerta-rosa/config';
import { readFileSync } from 'fs';
import { parse } from 'yaml';
import { z } from 'zod';

export interface Municipality {
  code: string;
  name: string;
  lat: number;
  lng: number;
}

export interface Region {
  id: string;
  name: string;
}

/** The part of the region directory the tracker needs: each region and the municipalities listed in it. */
const regionsFileSchema = z.object({
  regions: z
    .array(
      z.object({
        id: z.string().min(1),
        name: z.string().min(1),
        municipalities: z.array(z.string().regex(/^20\d{3}$/)).default([]),
      }),
    )
    .min(1),
});

/** Number of municipalities in the 2018 AVGM declaration for Oaxaca. */
export const AVGM_DECLARED = 40;

/**
 * What the committee's figures need to know about places: Oaxaca's municipalities (config/data), the
 * region of each (the region directory in config/, a municipality not listed taking the region of the
 * nearest listed one, as coordination assigns delegations) and the AVGM flag (config/data). The tracker
 * keeps its own copy of this, read from config/ at start-up; it never reads another service's tables.
 */
export class GeographyCatalog {
  private readonly municipalities = new Map<string, Municipality>();
  private readonly regionOf = new Map<string, string>();
  private readonly regionNames = new Map<string, string>();
  readonly avgm: ReadonlySet<string>;
  readonly regions: Region[];

  constructor(
    municipalities: Municipality[],
    regions: { id: string; name: string; municipalities: string[] }[],
    avgm: string[],
  ) {
    for (const m of municipalities) this.municipalities.set(m.code, m);
    const problems: string[] = [];
    for (const r of regions) {
      this.regionNames.set(r.id, r.name);
      for (const code of r.municipalities) {
        if (!this.municipalities.has(code)) problems.push(`region ${r.id}: unknown municipality ${code}`);
        this.regionOf.set(code, r.id);
      }
    }
    for (const code of avgm) {
      if (!this.municipalities.has(code)) problems.push(`AVGM list: unknown municipality ${code}`);
    }
    if (problems.length) throw new Error(`geography data: ${problems.join('; ')}`);
    this.regions = regions.map((r) => ({ id: r.id, name: r.name }));
    this.avgm = new Set(avgm);
    // Every municipality gets its region once, here: nearest listed seat for those not listed.
    const listed = [...this.regionOf.keys()].map((c) => this.municipalities.get(c)!);
    for (const m of municipalities) {
      if (this.regionOf.has(m.code) || listed.length === 0) continue;
      let best = listed[0];
      let bestD = Infinity;
      for (const l of listed) {
        const d = (l.lat - m.lat) ** 2 + ((l.lng - m.lng) * Math.cos((m.lat * Math.PI) / 180)) ** 2;
        if (d < bestD) {
          bestD = d;
          best = l;
        }
      }
      this.regionOf.set(m.code, this.regionOf.get(best.code)!);
    }
  }

  static load(regionsFile = 'areas.yaml', avgmFile = 'data/avgm-2018.csv'): GeographyCatalog {
    const municipalities = readCsv(configFile('data/oaxaca-municipios.csv')).map(
      ([code, name, lat, lng]) => ({
        code,
        name,
        lat: Number(lat),
        lng: Number(lng),
      }),
    );
    const parsed = regionsFileSchema.safeParse(parse(readFileSync(configFile(regionsFile), 'utf8')));
    if (!parsed.success) throw new Error(`${regionsFile}: ${z.prettifyError(parsed.error)}`);
    const avgm = readCsv(configFile(avgmFile)).map(([code]) => code);
    return new GeographyCatalog(municipalities, parsed.data.regions, avgm);
  }

  municipality(code: string): Municipality | undefined {
    return this.municipalities.get(code);
  }

  regionIdOf(code: string): string | null {
    return this.regionOf.get(code) ?? null;
  }

  regionName(id: string): string {
    return this.regionNames.get(id) ?? id;
  }

  isAvgm(code: string): boolean {
    return this.avgm.has(code);
  }
}

/** Rows of a small CSV with a header line; a field may be quoted (names can hold commas). */
function readCsv(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .replace(/^\uFEFF/, '')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => {
      const fields: string[] = [];
      const re = /("(?:[^"]|"")*"|[^,]*)(,|$)/g;
      let match: RegExpExecArray | null;
      while ((match = re.exec(line)) && match[0] !== '') {
        const raw = match[1];
        fields.push(raw.startsWith('"') ? raw.slice(1, -1).replace(/""/g, '"') : raw);
        if (match[2] === '') break;
      }
      return fields;
    });
}
