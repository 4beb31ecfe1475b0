import { PublicFicha } from '@alerta-rosa/contracts';
import { FieldError } from '@alerta-rosa/http';
import { validationFailed } from '../common/errors';
import { MunicipalityCatalog, normalizeName } from '../municipalities/municipality.catalog';

/** Public fields as the operator sends them (after schema validation); stored fichas fit too. */
export interface FichaSource {
  fullName: string;
  age: number;
  gender?: string | null;
  heightCm?: number | null;
  build?: string | null;
  complexion?: string | null;
  hair?: string | null;
  eyes?: string | null;
  distinguishingMarks?: string | null;
  clothing?: string | null;
  municipalityCode?: string;
  municipalityName?: string;
  locality?: string | null;
  lastSeenAt: string;
  lastSeenPlace?: string | null;
  description?: string | null;
  circumstances?: string | null;
  contactPhones?: string[];
  amberFolio?: string | null;
  indigenousLanguage?: string | null;
  photoConsent?: boolean;
  photoAltText?: string | null;
  activatingBody?: string;
}

export const DEFAULT_CONTACT_PHONES = ['911', '089'];

/** Public fields an update may carry (everything the operator types, not the derived ones). */
export const EDITABLE_PUBLIC_FIELDS = [
  'fullName',
  'age',
  'gender',
  'heightCm',
  'build',
  'complexion',
  'hair',
  'eyes',
  'distinguishingMarks',
  'clothing',
  'municipalityCode',
  'municipalityName',
  'locality',
  'lastSeenAt',
  'lastSeenPlace',
  'description',
  'circumstances',
  'contactPhones',
  'amberFolio',
  'indigenousLanguage',
  'photoConsent',
  'photoAltText',
  'activatingBody',
] as const;

/**
 * Turns what the operator typed into the public ficha: resolves the municipality (code or name),
 * derives the minor flag, checks the Amber folio and the activating body. All problems at once, as
 * field errors.
 */
export class FichaBuilder {
  constructor(
    private readonly municipalities: MunicipalityCatalog,
    private readonly activatingBodies: readonly string[],
  ) {}

  build(src: FichaSource, reportedAt: string, photo: { url: string } | null): PublicFicha {
    const errors: FieldError[] = [];
    const byCode =
      src.municipalityCode !== undefined ? this.municipalities.byInegiCode(src.municipalityCode) : undefined;
    const byName =
      src.municipalityName !== undefined
        ? this.municipalities.byNormalizedName(src.municipalityName)
        : undefined;
    if (src.municipalityCode !== undefined && !byCode) {
      errors.push({
        path: 'municipalityCode',
        code: 'unknown_municipality',
        message: 'No es un municipio de Oaxaca',
      });
    }
    if (src.municipalityName !== undefined && !byName) {
      errors.push({
        path: 'municipalityName',
        code: 'unknown_municipality',
        message: 'No es un municipio de Oaxaca',
      });
    }
    if (byCode && byName && byCode.code !== byName.code) {
      errors.push({
        path: 'municipalityName',
        code: 'municipality_mismatch',
        message: 'La clave INEGI y el nombre corresponden a municipios distintos',
      });
    }
    if (src.municipalityCode === undefined && src.municipalityName === undefined) {
      errors.push({
        path: 'municipalityCode',
        code: 'required',
        message: 'Indique el municipio (clave INEGI o nombre)',
      });
    }
    const isMinor = src.age < 18;
    if (src.amberFolio && !isMinor) {
      errors.push({
        path: 'amberFolio',
        code: 'amber_requires_minor',
        message: 'El folio Amber solo aplica a menores de 18 años',
      });
    }
    const activatingBody = src.activatingBody ?? 'SSP';
    if (!this.activatingBodies.includes(activatingBody)) {
      errors.push({
        path: 'activatingBody',
        code: 'unknown_activating_body',
        message: `Instancia no autorizada para activar (autorizadas: ${this.activatingBodies.join(', ')})`,
      });
    }
    if (Date.parse(src.lastSeenAt) > Date.parse(reportedAt) + 60_000) {
      errors.push({
        path: 'lastSeenAt',
        code: 'after_report',
        message: 'La última vez vista no puede ser posterior al reporte',
      });
    }
    if (errors.length) throw validationFailed(errors);
    const municipality = (byCode ?? byName)!;
    const photoConsent = src.photoConsent ?? false;
    const photoUrl = photoConsent && photo ? photo.url : null;
    return {
      fullName: src.fullName,
      age: src.age,
      gender: src.gender ?? null,
      heightCm: src.heightCm ?? null,
      build: src.build ?? null,
      complexion: src.complexion ?? null,
      hair: src.hair ?? null,
      eyes: src.eyes ?? null,
      distinguishingMarks: src.distinguishingMarks ?? null,
      clothing: src.clothing ?? null,
      municipalityCode: municipality.code,
      municipalityName: municipality.name,
      locality: src.locality ?? null,
      lastSeenAt: new Date(src.lastSeenAt).toISOString(),
      lastSeenPlace: src.lastSeenPlace ?? null,
      description: src.description ?? null,
      circumstances: src.circumstances ?? null,
      contactPhones: src.contactPhones ?? DEFAULT_CONTACT_PHONES,
      isMinor,
      amberFolio: isMinor ? (src.amberFolio ?? null) : null,
      indigenousLanguage: src.indigenousLanguage ?? null,
      photoConsent,
      photoUrl,
      photoAltText: photoUrl
        ? (src.photoAltText ?? `Fotografía de ${src.fullName}, ${src.age} años`)
        : (src.photoAltText ?? null),
      activatingBody,
    };
  }
}

/** Same person, same age: what a possible duplicate among active alerts looks like. */
export function duplicateKeyOf(ficha: Pick<PublicFicha, 'fullName' | 'age'>): string {
  return `${normalizeName(ficha.fullName)}|${ficha.age}`;
}

/** Names of public fields whose value differs. */
export function changedPublicFields(before: PublicFicha, after: PublicFicha): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]) as Set<keyof PublicFicha>;
  return [...keys].filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null));
}
