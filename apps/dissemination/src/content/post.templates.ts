import { AlertOutcome, Platform, PublicFicha, PublicationKind } from '@alerta-rosa/contracts';
import twitterText from 'twitter-text';

export interface ContactPhone {
  label: string;
  number: string;
}

export interface PostContext {
  kind: PublicationKind;
  platform: Platform;
  folio: string;
  version: number;
  ficha: PublicFicha;
  /** Regions the account covers; an account of exactly one region leads with it. */
  accountRegions: string[];
  phones: ContactPhone[];
  outcome?: AlertOutcome | null;
}

export const X_MAX_WEIGHTED_LENGTH = 280;
const TZ = 'America/Mexico_City';

/** The text a publication carries to be found again after an ambiguous failure (unique per alert version). */
export function publicationMarker(folio: string, version: number): string {
  return `Folio ${folio} (v${version})`;
}

// Building an Intl formatter is expensive (ICU); build each once.
const LONG_DATE = new Intl.DateTimeFormat('es-MX', { timeZone: TZ, dateStyle: 'long', timeStyle: 'short' });
const SHORT_DATE = new Intl.DateTimeFormat('es-MX', {
  timeZone: TZ,
  dateStyle: 'short',
  timeStyle: 'short',
  hour12: false,
});

export function formatLastSeen(iso: string): string {
  return LONG_DATE.format(new Date(iso));
}

export function formatLastSeenShort(iso: string): string {
  return SHORT_DATE.format(new Date(iso));
}

export function weightedLength(text: string): number {
  return twitterText.parseTweet(text).weightedLength;
}

/** Spanish post text per platform and kind. X texts are shortened until they fit 280 weighted characters. */
export function renderPostText(ctx: PostContext): string {
  if (ctx.platform !== 'x') return compose(ctx, { long: true, withPlace: true, nameMax: 200 });
  for (const variant of [
    { long: false, withPlace: true, nameMax: 200 },
    { long: false, withPlace: false, nameMax: 200 },
    { long: false, withPlace: false, nameMax: 60 },
    { long: false, withPlace: false, nameMax: 25 },
    { long: false, withPlace: false, nameMax: 25, compact: true },
    { long: false, withPlace: false, nameMax: 18, compact: true },
  ]) {
    const text = compose(ctx, variant);
    if (twitterText.parseTweet(text).valid && weightedLength(text) <= X_MAX_WEIGHTED_LENGTH) return text;
  }
  throw new Error(`post text for ${ctx.folio} does not fit ${X_MAX_WEIGHTED_LENGTH} weighted characters`);
}

function compose(
  ctx: PostContext,
  v: { long: boolean; withPlace: boolean; nameMax: number; compact?: boolean },
): string {
  const f = ctx.ficha;
  const name =
    f.fullName.length > v.nameMax ? `${f.fullName.slice(0, v.nameMax - 1).trimEnd()}…` : f.fullName;
  const lead = ctx.accountRegions.length === 1 ? `📍 Región ${ctx.accountRegions[0]}\n` : '';
  const marker = publicationMarker(ctx.folio, ctx.version);
  const seen = v.compact ? formatLastSeenShort(f.lastSeenAt) : formatLastSeen(f.lastSeenAt);
  const municipality = v.compact ? shorten(f.municipalityName, v.nameMax + 4) : f.municipalityName;
  const where = [
    municipality,
    v.withPlace && f.lastSeenPlace ? shorten(f.lastSeenPlace, v.long ? 300 : 60) : null,
  ]
    .filter(Boolean)
    .join(', ');
  const phones = ctx.phones
    .map((p) => (v.long ? `${p.label}: ${p.number}` : p.number))
    .join(v.long ? ' · ' : ', ');
  const lines: string[] = [];
  switch (ctx.kind) {
    case 'activation':
      lines.push(`${lead}🚨 #AlertaRosa #Oaxaca`);
      lines.push(`Ayúdanos a localizar a ${name}, de ${f.age} años.`);
      lines.push(`Vista por última vez el ${seen} en ${where}.`);
      if (v.long && f.description) lines.push(shorten(f.description, 1000));
      lines.push(v.compact ? `Llama: ${phones}.` : `Si tienes información, llama: ${phones}.`);
      break;
    case 'update':
      lines.push(`${lead}🔄 Actualización · #AlertaRosa #Oaxaca`);
      lines.push(`Seguimos buscando a ${name}, de ${f.age} años.`);
      lines.push(`Vista por última vez el ${seen} en ${where}.`);
      if (v.long && f.description) lines.push(shorten(f.description, 1000));
      lines.push(v.compact ? `Llama: ${phones}.` : `Si tienes información, llama: ${phones}.`);
      break;
    case 'located_notice':
      lines.push(`${lead}✅ LOCALIZADA · #AlertaRosa #Oaxaca`);
      lines.push('La persona de esta ficha fue localizada con vida.');
      lines.push(
        'Gracias a la ciudadanía y a los medios por difundir. Por respeto a su privacidad, retiramos la ficha y su fotografía.',
      );
      break;
  }
  lines.push(marker);
  return lines.join('\n');
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}

/** Alt text of the ficha card image (what a screen reader says). */
export function renderAltText(
  folio: string,
  ficha: PublicFicha,
  phones: ContactPhone[],
  withPhoto: boolean,
): string {
  const parts = [
    `Ficha de búsqueda Alerta Rosa, folio ${folio}.`,
    `${withPhoto ? 'Fotografía de' : 'Datos de'} ${ficha.fullName}, ${ficha.age} años.`,
    ficha.photoAltText && withPhoto ? asSentence(ficha.photoAltText) : null,
    `Vista por última vez el ${formatLastSeen(ficha.lastSeenAt)} en ${ficha.municipalityName}.`,
    `Teléfonos: ${phones.map((p) => `${p.label} ${p.number}`).join(', ')}.`,
  ];
  return shorten(parts.filter(Boolean).join(' '), 1000);
}

/** The operator's description as a sentence of its own (ends with a full stop), so the next one does not run on. */
function asSentence(text: string): string {
  const t = text.trim();
  return /[.!?…]$/.test(t) ? t : `${t}.`;
}

export function outcomeNeedsNotice(outcome: AlertOutcome): boolean {
  return outcome === 'localizada_con_vida';
}
