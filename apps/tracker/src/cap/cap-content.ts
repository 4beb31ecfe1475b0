import { AlertOutcome, PublicFicha } from '@alerta-rosa/contracts';
import { CAP_TIME_ZONE } from './cap-datetime';
import { CapArea, CapInfo, CapResource } from './cap-message.builder';

/** What the message's texts and area are made of: the public ficha only, never the private part. */
export interface CapContentInput {
  folio: string;
  ficha: PublicFicha;
  expires: Date;
  senderName: string;
  web: string;
  /** Seat of the municipality (INEGI catalogue), when known. */
  seat: { lat: number; lng: number } | null;
  radiusKm: number;
}

const PHONE_LABELS: Record<string, string> = { '911': 'emergencias', '089': 'denuncia anónima' };
const DEFAULT_PHONES = ['911', '089'];
const HEADLINE_MAX = 160;

const lastSeenFormat = new Intl.DateTimeFormat('es-MX', {
  timeZone: CAP_TIME_ZONE,
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}

function sentence(text: string): string {
  const t = text.trim();
  return /[.!?…]$/.test(t) ? t : `${t}.`;
}

function phones(ficha: PublicFicha): string[] {
  return ficha.contactPhones?.length ? ficha.contactPhones : DEFAULT_PHONES;
}

/** «al 911 (emergencias), al 089 (denuncia anónima) o al 951 000 0000». */
function phoneList(numbers: string[]): string {
  const items = numbers.map((n) => `al ${n}${PHONE_LABELS[n] ? ` (${PHONE_LABELS[n]})` : ''}`);
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} o ${items[items.length - 1]}` : items[0];
}

/** The CAP area: the municipality by name, its INEGI code, and a circle around its seat. */
export function capArea(input: Pick<CapContentInput, 'ficha' | 'seat' | 'radiusKm'>): CapArea {
  const { ficha, seat, radiusKm } = input;
  return {
    areaDesc: `${ficha.municipalityName}, Oaxaca`,
    circles: seat ? [`${seat.lat.toFixed(5)},${seat.lng.toFixed(5)} ${radiusKm}`] : [],
    geocodes: [{ valueName: 'INEGI', value: ficha.municipalityCode }],
  };
}

function common(input: CapContentInput) {
  return {
    language: 'es-MX',
    categories: ['Rescue'],
    event: 'Alerta Rosa',
    expires: input.expires,
    senderName: input.senderName,
    web: input.web,
    contact: `${input.senderName}: ${phones(input.ficha).join(', ')}`,
    areas: [capArea(input)],
  };
}

/** The `info` of an active alert (Alert and Update messages): who she is, where she was last seen. */
export function activeInfo(input: CapContentInput): CapInfo {
  const f = input.ficha;
  const amber = f.isMinor ? ' y Alerta Amber' : '';
  const headline = shorten(
    `Alerta Rosa${amber} ${input.folio}: se busca a ${f.fullName}, ${f.age} años, ${f.municipalityName}`,
    HEADLINE_MAX,
  );
  const where = [f.locality, `${f.municipalityName}, Oaxaca`].filter(Boolean).join(', ');
  const traits = [
    f.gender ? `Sexo/género: ${f.gender}` : null,
    f.heightCm ? `Estatura: ${(f.heightCm / 100).toFixed(2)} m` : null,
    f.build ? `Complexión: ${f.build}` : null,
    f.complexion ? `Tez: ${f.complexion}` : null,
    f.hair ? `Cabello: ${f.hair}` : null,
    f.eyes ? `Ojos: ${f.eyes}` : null,
    f.distinguishingMarks ? `Señas particulares: ${f.distinguishingMarks}` : null,
    f.clothing ? `Vestimenta: ${f.clothing}` : null,
  ].filter((t): t is string => t !== null);
  const description = [
    `Se solicita el apoyo de la población para localizar a ${f.fullName}, de ${f.age} años.`,
    `Fue vista por última vez el ${lastSeenFormat.format(new Date(f.lastSeenAt))} (hora del centro de México) en ${where}${f.lastSeenPlace ? ` (${f.lastSeenPlace})` : ''}.`,
    traits.length ? traits.map(sentence).join(' ') : null,
    f.circumstances ? sentence(f.circumstances) : null,
    f.description ? sentence(f.description) : null,
    f.indigenousLanguage ? `Habla ${f.indigenousLanguage}.` : null,
    f.isMinor
      ? `Es menor de edad: también Alerta Amber${f.amberFolio ? ` (folio ${f.amberFolio})` : ''}.`
      : null,
    `Folio de la Alerta Rosa: ${input.folio}.`,
  ]
    .filter(Boolean)
    .join('\n');
  const parameters = [{ valueName: 'folio', value: input.folio }];
  if (f.activatingBody) parameters.push({ valueName: 'autoridadQueActiva', value: f.activatingBody });
  if (f.isMinor && f.amberFolio) parameters.push({ valueName: 'folioAlertaAmber', value: f.amberFolio });
  return {
    ...common(input),
    responseTypes: ['Monitor'],
    urgency: 'Immediate',
    severity: 'Severe',
    certainty: 'Likely',
    headline,
    description,
    instruction: `Si la ha visto o tiene información, llame ${phoneList(phones(f))}. Comparta solo la ficha oficial.`,
    parameters,
    resources: photoResource(f),
  };
}

/**
 * The photo as a `resource`, only with the family's consent (intake sets `photoUrl` only then) — and
 * never in a Cancel (deactivation withdraws it everywhere).
 */
function photoResource(f: PublicFicha): CapResource[] {
  if (!f.photoConsent || !f.photoUrl) return [];
  const ext = /\.(jpe?g|png|webp)(?:$|\?)/i.exec(f.photoUrl)?.[1]?.toLowerCase() ?? 'jpg';
  const mimeType = ext === 'png' ? 'image/png' : ext === 'webp' ? 'image/webp' : 'image/jpeg';
  return [{ resourceDesc: 'Fotografía de la ficha de búsqueda', mimeType, uri: f.photoUrl }];
}

/**
 * The `info` of a Cancel: the alert is over. It names the folio only — not her name, not the photo —
 * and says «localizada con vida» only for that outcome, as the posts do.
 */
export function cancelInfo(input: CapContentInput, outcome: AlertOutcome): CapInfo {
  const description =
    outcome === 'localizada_con_vida'
      ? `La persona de la ficha ${input.folio} fue localizada con vida. Gracias a la ciudadanía y a los medios por difundir.`
      : `La Alerta Rosa ${input.folio} fue desactivada. Gracias a la ciudadanía y a los medios por difundir.`;
  return {
    ...common(input),
    responseTypes: ['AllClear'],
    urgency: 'Past',
    severity: 'Minor',
    certainty: 'Observed',
    headline: `Alerta Rosa ${input.folio}: desactivada`,
    description,
    instruction:
      'Deje de difundir la ficha. Por respeto a su privacidad, retire las copias que haya publicado y su fotografía.',
    parameters: [{ valueName: 'folio', value: input.folio }],
    resources: [],
  };
}
