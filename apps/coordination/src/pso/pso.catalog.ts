import { configFile } from '@alerta-rosa/config';
import { readFileSync, readdirSync } from 'fs';
import { join } from 'path';
import { parse } from 'yaml';
import { AreaDirectory } from '../areas/area-directory';
import { ConfigDataError, formatZodIssues } from './config-data.error';
import { PsoVersion, psoVersionSchema } from './pso.schema';

/**
 * Every PSO version under config/<dir>/*.yaml, checked against the schema and the area directory.
 * The version in force at an instant is the one with the latest effectiveFrom not after it.
 */
export class PsoCatalog {
  readonly versions: PsoVersion[];

  constructor(versions: PsoVersion[], directory: AreaDirectory) {
    this.versions = [...versions].sort((a, b) => Date.parse(a.effectiveFrom) - Date.parse(b.effectiveFrom));
    const seen = new Set<string>();
    for (const v of this.versions) {
      const file = `PSO ${v.version}`;
      if (seen.has(v.version)) throw new ConfigDataError(file, ['version declared twice']);
      seen.add(v.version);
      const problems: string[] = [];
      const regionIds = new Set(directory.data.regions.map((r) => r.id));
      v.steps.forEach((s, i) => {
        if (s.area.kind === 'area' && !directory.area(s.area.id))
          problems.push(`steps.${i}.area.id: unknown area "${s.area.id}"`);
        if (s.area.kind === 'regional_delegation' && !directory.hasDelegationKind(s.area.of)) {
          problems.push(`steps.${i}.area.of: no regional delegations of "${s.area.of}"`);
        }
        if (s.area.kind === 'mujer_segura' && s.when?.mujerSeguraUnit !== true) {
          problems.push(`steps.${i}.when.mujerSeguraUnit: must be true for a «Mujer Segura» step`);
        }
        for (const r of s.when?.regions ?? [])
          if (!regionIds.has(r)) problems.push(`steps.${i}.when.regions: unknown region "${r}"`);
      });
      if (problems.length) throw new ConfigDataError(file, problems);
    }
  }

  static load(dir: string, directory: AreaDirectory): PsoCatalog {
    const folder = configFile(dir);
    const files = readdirSync(folder).filter((f) => /\.ya?ml$/.test(f));
    if (files.length === 0) throw new ConfigDataError(`config/${dir}`, ['no PSO version (*.yaml) found']);
    const versions = files.map((f) => {
      const where = `config/${dir}/${f}`;
      let raw: unknown;
      try {
        raw = parse(readFileSync(join(folder, f), 'utf8'));
      } catch (err) {
        throw new ConfigDataError(where, [`not valid YAML: ${(err as Error).message}`]);
      }
      const parsed = psoVersionSchema.safeParse(raw);
      if (!parsed.success) throw new ConfigDataError(where, formatZodIssues(parsed.error));
      return parsed.data;
    });
    return new PsoCatalog(versions, directory);
  }

  inForceAt(at: Date): PsoVersion {
    let found: PsoVersion | undefined;
    for (const v of this.versions) if (Date.parse(v.effectiveFrom) <= at.getTime()) found = v;
    return found ?? this.versions[0];
  }

  byVersion(version: string): PsoVersion | undefined {
    return this.versions.find((v) => v.version === version);
  }
}
