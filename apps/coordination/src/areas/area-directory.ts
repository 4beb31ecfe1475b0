import { configFile } from '@alerta-rosa/config';
import { readFileSync } from 'fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigDataError, formatZodIssues } from '../pso/config-data.error';

const email = z.string().email();
const contactSchema = z.object({ name: z.string().min(1), emails: z.array(email).min(1) }).strict();
const areaId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes');
const inegiCode = z.string().regex(/^20\d{3}$/, 'INEGI code of an Oaxaca municipality (20001–20570)');

const areaSchema = z
  .object({
    id: areaId,
    name: z.string().min(1),
    emails: z.array(email).min(1),
    supervisor: contactSchema,
    /** People of the area (reference; their logins carry the area id as the `areaId` claim). */
    members: z.array(z.object({ name: z.string().min(1), email }).strict()).optional(),
  })
  .strict();

export const areaDirectorySchema = z
  .object({
    version: z.string().min(1),
    dutyOfficer: contactSchema,
    direccion: contactSchema,
    areas: z.array(areaSchema).min(1),
    regions: z
      .array(
        z
          .object({
            id: areaId,
            name: z.string().min(1),
            municipalities: z.array(inegiCode).min(1),
            delegations: z.record(areaId, areaSchema),
          })
          .strict(),
      )
      .length(8, "Oaxaca's 8 regions"),
    mujerSegura: z.array(areaSchema.extend({ municipalityCode: inegiCode }).strict()),
  })
  .strict();
export type AreaDirectoryData = z.infer<typeof areaDirectorySchema>;

export interface Contact {
  name: string;
  emails: string[];
}
export interface Area extends Contact {
  id: string;
  supervisor: Contact;
  members?: { name: string; email: string }[];
  /** Set for regional delegations. */
  regionId?: string;
  /** Set for «Mujer Segura» units. */
  municipalityCode?: string;
}

/** Directory entries that are not areas: their ids cannot clash with area ids (no «@» there). */
export const DUTY_OFFICER_ENTRY = '@duty-officer';
export const DIRECCION_ENTRY = '@direccion';

/** Contacts changed through the admin API, laid over config/areas.yaml (coordination.directory_contacts). */
export interface ContactOverride {
  entryId: string;
  name: string | null;
  emails: string[];
  supervisor: Contact | null;
  members: { name: string; email: string }[] | null;
}

export interface Municipality {
  code: string;
  name: string;
  lat: number;
  lng: number;
}

export function loadMunicipalities(
  path = configFile('data/oaxaca-municipios.csv'),
): Map<string, Municipality> {
  const rows = readFileSync(path, 'utf8').trim().split(/\r?\n/).slice(1);
  return new Map(
    rows.map((line) => {
      const [code, name, lat, lng] = line.split(',');
      return [code, { code, name, lat: Number(lat), lng: Number(lng) }];
    }),
  );
}

/**
 * The areas the PSO names, who supervises them, the regional delegations and the «Mujer Segura» units,
 * and which region a municipality belongs to.
 */
export class AreaDirectory {
  private readonly areas = new Map<string, Area>();
  private readonly regionOf = new Map<string, string>();
  private readonly mujerSeguraByMunicipality = new Map<string, Area>();
  private readonly delegations = new Map<string, Map<string, Area>>();
  /** Contacts as config/areas.yaml has them, to lay the admin's changes over. */
  private readonly configContacts = new Map<string, Pick<Area, 'emails' | 'supervisor' | 'members'>>();
  private duty: Contact;
  private dir: Contact;

  constructor(
    readonly data: AreaDirectoryData,
    private readonly municipalities: Map<string, Municipality>,
    readonly source = 'config/areas.yaml',
  ) {
    const problems: string[] = [];
    const add = (area: Area, where: string) => {
      if (this.areas.has(area.id)) problems.push(`${where}: duplicate area id "${area.id}"`);
      this.areas.set(area.id, area);
    };
    data.areas.forEach((a, i) => add({ ...a }, `areas.${i}`));
    data.regions.forEach((r, i) => {
      for (const [kind, d] of Object.entries(r.delegations)) {
        add({ ...d, regionId: r.id }, `regions.${i}.delegations.${kind}`);
        if (!this.delegations.has(kind)) this.delegations.set(kind, new Map());
        this.delegations.get(kind)!.set(r.id, this.areas.get(d.id)!);
      }
      r.municipalities.forEach((code, j) => {
        if (!municipalities.has(code))
          problems.push(`regions.${i}.municipalities.${j}: unknown municipality ${code}`);
        const previous = this.regionOf.get(code);
        if (previous && previous !== r.id)
          problems.push(`regions.${i}.municipalities.${j}: ${code} is already in ${previous}`);
        this.regionOf.set(code, r.id);
      });
    });
    data.mujerSegura.forEach((u, i) => {
      if (!municipalities.has(u.municipalityCode)) {
        problems.push(`mujerSegura.${i}.municipalityCode: unknown municipality ${u.municipalityCode}`);
      }
      if (this.mujerSeguraByMunicipality.has(u.municipalityCode)) {
        problems.push(`mujerSegura.${i}.municipalityCode: ${u.municipalityCode} has two units`);
      }
      const { municipalityCode, ...area } = u;
      add({ ...area, municipalityCode }, `mujerSegura.${i}`);
      this.mujerSeguraByMunicipality.set(municipalityCode, this.areas.get(u.id)!);
    });
    const regionIds = new Set(data.regions.map((r) => r.id));
    if (regionIds.size !== data.regions.length) problems.push('regions: duplicate region id');
    for (const [kind, byRegion] of this.delegations) {
      for (const r of regionIds)
        if (!byRegion.has(r)) problems.push(`regions.${r}.delegations: missing "${kind}"`);
    }
    if (problems.length) throw new ConfigDataError(source, problems);
    for (const [id, a] of this.areas) this.configContacts.set(id, structuredClone(pickContacts(a)));
    this.duty = data.dutyOfficer;
    this.dir = data.direccion;
  }

  /** An area's contacts as config/areas.yaml has them (before any change made through the API). */
  configuredArea(id: string): Pick<Area, 'emails' | 'supervisor' | 'members'> | undefined {
    return this.configContacts.get(id);
  }

  /** The Unidad de Género's duty officer (changes with the shift: editable through the admin API). */
  get dutyOfficer(): Contact {
    return this.duty;
  }

  get direccion(): Contact {
    return this.dir;
  }

  /**
   * Lays the admin's contact changes over the configuration (all of them, each time: an override that
   * disappeared restores the configured contacts). Structure — which areas exist, regions, units —
   * stays in config/areas.yaml, where the PSO refers to it.
   */
  applyContacts(overrides: ContactOverride[]): void {
    for (const [id, contacts] of this.configContacts) {
      Object.assign(this.areas.get(id)!, structuredClone(contacts));
    }
    this.duty = this.data.dutyOfficer;
    this.dir = this.data.direccion;
    for (const o of overrides) {
      if (o.entryId === DUTY_OFFICER_ENTRY) {
        this.duty = { name: o.name ?? this.data.dutyOfficer.name, emails: o.emails };
      } else if (o.entryId === DIRECCION_ENTRY) {
        this.dir = { name: o.name ?? this.data.direccion.name, emails: o.emails };
      } else {
        const area = this.areas.get(o.entryId);
        if (!area) continue; // an area removed from the configuration
        area.emails = o.emails;
        if (o.supervisor) area.supervisor = o.supervisor;
        if (o.members) area.members = o.members;
      }
    }
  }

  static load(file = 'areas.yaml', municipalities = loadMunicipalities()): AreaDirectory {
    const path = configFile(file);
    let raw: unknown;
    try {
      raw = parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new ConfigDataError(`config/${file}`, [`not valid YAML: ${(err as Error).message}`]);
    }
    const parsed = areaDirectorySchema.safeParse(raw);
    if (!parsed.success) throw new ConfigDataError(`config/${file}`, formatZodIssues(parsed.error));
    return new AreaDirectory(parsed.data, municipalities, `config/${file}`);
  }

  get version(): string {
    return this.data.version;
  }

  area(id: string): Area | undefined {
    return this.areas.get(id);
  }

  all(): Area[] {
    return [...this.areas.values()];
  }

  hasDelegationKind(kind: string): boolean {
    return this.delegations.has(kind);
  }

  delegation(kind: string, regionId: string): Area | undefined {
    return this.delegations.get(kind)?.get(regionId);
  }

  mujerSeguraUnit(municipalityCode: string): Area | undefined {
    return this.mujerSeguraByMunicipality.get(municipalityCode);
  }

  regionName(regionId: string): string {
    return this.data.regions.find((r) => r.id === regionId)?.name ?? regionId;
  }

  /** Region of a municipality: listed explicitly, else that of the nearest listed municipality. */
  regionOfMunicipality(code: string): string {
    const listed = this.regionOf.get(code);
    if (listed) return listed;
    const here = this.municipalities.get(code);
    if (!here) return this.data.regions[0].id;
    let best = { d: Infinity, region: this.data.regions[0].id };
    for (const [other, region] of this.regionOf) {
      const m = this.municipalities.get(other)!;
      const d = (m.lat - here.lat) ** 2 + ((m.lng - here.lng) * Math.cos((here.lat * Math.PI) / 180)) ** 2;
      if (d < best.d) best = { d, region };
    }
    return best.region;
  }

  contactsFor(target: 'area_supervisor' | 'duty_officer' | 'direccion', area: Area): Contact {
    if (target === 'area_supervisor') return area.supervisor;
    return target === 'duty_officer' ? this.duty : this.dir;
  }
}

function pickContacts(a: Area): Pick<Area, 'emails' | 'supervisor' | 'members'> {
  return { emails: a.emails, supervisor: a.supervisor, members: a.members };
}
