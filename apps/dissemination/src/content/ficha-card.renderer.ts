import { PublicFicha } from '@alerta-rosa/contracts';
import { createHash } from 'crypto';
import { availableParallelism } from 'os';
import sharp from 'sharp';
import { ContactPhone, formatLastSeen } from './post.templates';

const W = 1000;
const H = 1250;
const PINK = '#E6007E';
/** Where her photo goes on the card: inside a 6 px pink frame, the frame from (67, 267) to (493, 793). */
const PHOTO = { left: 73, top: 273, width: 414, height: 514 };

// sharp runs libvips on one thread by default on glibc Linux (against memory fragmentation); a card is
// rendered rarely and every millisecond of it delays the first post, so it may use every core.
sharp.concurrency(availableParallelism());

export interface CardInput {
  folio: string;
  ficha: PublicFicha;
  phones: ContactPhone[];
}

/**
 * What became of the ficha's photo on a card: shown; none (the ficha has none); gone (the URL answers
 * 404/410: consent withdrawn, photo deleted); unavailable (could not be fetched or read).
 */
export type CardPhoto = 'shown' | 'none' | 'gone' | 'unavailable';

export interface RenderedCard {
  /** The card as a JPEG file. */
  data: Buffer;
  contentType: 'image/jpeg';
  photo: CardPhoto;
}

/** A small map that forgets its oldest entry, refreshed on use. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * JSON with object keys sorted: the same ficha gives the same key whether it comes from an event or
 * from PostgreSQL (jsonb does not keep key order).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** What a card is made of, as a key: two inputs with the same key give the same card. */
export function cardKey(input: CardInput): string {
  return sha256(canonicalJson([input.folio, input.ficha, input.phones]));
}

/**
 * The ficha as an image card: pink frame, photo when the family consented (ficha.photoUrl), name, age,
 * last seen, folio and contact numbers. SVG rendered by sharp (librsvg) to a palette PNG.
 *
 * A card is rendered once per version of the ficha (keyed by what it is made from: folio, ficha and
 * numbers), photo fetched and resized once: the 30 posts of a version — and their retries — share it,
 * and concurrent requests share the one rendering in flight. A version's ficha never changes; a photo
 * withdrawn, deleted or replaced makes a new version with another `photoUrl` (each photo has its own
 * URL), hence another card, and the earlier version's posts are marked to come down and can no longer be
 * sent. A card rendered without its photo because the photo could not be fetched is not kept: the next
 * post of that version tries the photo again.
 */
export class FichaCardRenderer {
  private readonly cards = new Lru<Promise<RenderedCard>>(32);

  constructor(private readonly photoTimeoutMs: number) {}

  async render(input: CardInput): Promise<RenderedCard> {
    const key = cardKey(input);
    let card = this.cards.get(key);
    if (!card) {
      card = this.renderCard(input);
      this.cards.set(key, card);
      card.then(
        (c) => c.photo === 'unavailable' && this.cards.delete(key),
        () => this.cards.delete(key),
      );
    }
    return card;
  }

  /** One card, uncached (tests, benchmarks). */
  async renderNow(input: CardInput): Promise<Buffer> {
    return (await this.renderCard(input)).data;
  }

  /**
   * Loads sharp's SVG renderer, fonts and JPEG decoder at start-up (a first rendering costs several
   * times a later one), so the first alert after a start does not pay for it.
   */
  async warmUp(): Promise<void> {
    try {
      const tiny = await sharp({ create: { width: 8, height: 8, channels: 3, background: PINK } })
        .jpeg()
        .toBuffer();
      await sharp(tiny).resize(4, 4).jpeg().toBuffer();
      await this.renderCard({
        folio: 'AR-0000-0000',
        ficha: WARM_UP_FICHA,
        phones: [{ label: 'Emergencias', number: '911' }],
      });
    } catch {
      // Only a head start: the first real card renders anyway.
    }
  }

  private async renderCard(input: CardInput): Promise<RenderedCard> {
    const { pixels, photo } = input.ficha.photoUrl
      ? await this.fetchPhoto(input.ficha.photoUrl)
      : { pixels: null, photo: 'none' as const };
    return { data: await toJpeg(cardSvg(input, !!pixels), pixels), contentType: 'image/jpeg', photo };
  }

  /**
   * The photo for the card, or why there is none. A photo that cannot be fetched never stops the post:
   * the card goes out without it (and says so in its alt text) rather than 30 posts failing. (fetch keeps
   * its connections to the photo host alive and pooled.)
   */
  private async fetchPhoto(url: string): Promise<{ pixels: Buffer | null; photo: CardPhoto }> {
    let raw: Buffer;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.photoTimeoutMs) });
      if (res.status === 404 || res.status === 410) return { pixels: null, photo: 'gone' };
      if (!res.ok) return { pixels: null, photo: 'unavailable' };
      raw = Buffer.from(await res.arrayBuffer());
    } catch {
      return { pixels: null, photo: 'unavailable' };
    }
    // Decoded once into the photo box's pixels, laid onto the card as they are (embedding a JPEG in the
    // SVG made librsvg decode it again inside the card rendering).
    const pixels = await sharp(raw)
      .rotate() // phone photos: EXIF orientation
      .resize(PHOTO.width, PHOTO.height, { fit: 'cover' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer()
      .catch(() => null);
    return pixels?.length === PHOTO.width * PHOTO.height * 3
      ? { pixels, photo: 'shown' }
      : { pixels: null, photo: 'unavailable' };
  }
}

const WARM_UP_FICHA = {
  fullName: 'Calentamiento',
  age: 30,
  municipalityName: 'Oaxaca de Juárez',
  lastSeenAt: '2026-01-01T00:00:00Z',
} as PublicFicha;

/**
 * A JPEG at quality 88 with full-resolution colour (4:4:4: no chroma subsampling, so white-on-pink and
 * pink-on-white text keeps sharp edges). It encodes in a fraction of the time a palette PNG took (whose
 * colour quantisation cost 200–450 ms of CPU on this card on two busy cores, paid before the first post
 * of every alert), is the format X and Facebook serve photos in anyway, and with her photo weighs about
 * as much as the palette PNG did.
 */
export function toJpeg(svg: string, photoPixels: Buffer | null = null): Promise<Buffer> {
  const card = sharp(Buffer.from(svg));
  if (photoPixels) {
    card.composite([
      {
        input: photoPixels,
        raw: { width: PHOTO.width, height: PHOTO.height, channels: 3 },
        left: PHOTO.left,
        top: PHOTO.top,
      },
    ]);
  }
  return card
    .flatten({ background: '#ffffff' })
    .jpeg({ quality: 88, chromaSubsampling: '4:4:4', optimiseCoding: true })
    .toBuffer();
}

/** The card's layout and text; with `withPhoto`, the framed box her photo is laid into (toJpeg). */
export function cardSvg(input: CardInput, withPhoto: boolean): string {
  const f = input.ficha;
  // Her name in capitals, bold 40 px (about 28 px a character): 15 characters fit beside the photo, 28
  // across the card (at 22 a name like «MARÍA FERNANDA LÓPEZ» ran past the card's edge).
  const nameLines = wrap(f.fullName.toUpperCase(), withPhoto ? 15 : 28).slice(0, 3);
  const textX = withPhoto ? 520 : 80;
  const lastSeen = wrap(`Vista por última vez: ${formatLastSeen(f.lastSeenAt)}`, withPhoto ? 30 : 42);
  const where = wrap(
    `En: ${f.municipalityName}${f.lastSeenPlace ? `, ${f.lastSeenPlace}` : ''}`,
    withPhoto ? 30 : 42,
  ).slice(0, 3);
  let y = 330;
  const texts: string[] = [];
  for (const l of nameLines) {
    texts.push(`<text x="${textX}" y="${y}" font-size="40" font-weight="bold" fill="#222">${esc(l)}</text>`);
    y += 50;
  }
  y += 16;
  texts.push(`<text x="${textX}" y="${y}" font-size="36" fill="#222">Edad: ${f.age} años</text>`);
  y += 60;
  for (const l of [...lastSeen, ...where]) {
    texts.push(`<text x="${textX}" y="${y}" font-size="28" fill="#333">${esc(l)}</text>`);
    y += 38;
  }
  const photo = withPhoto
    ? `<rect x="${PHOTO.left - 6}" y="${PHOTO.top - 6}" width="${PHOTO.width + 12}" height="${PHOTO.height + 12}" fill="${PINK}"/>`
    : '';
  const phones = input.phones.map((p) => `${p.label}: ${p.number}`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">
  <rect width="${W}" height="${H}" fill="#ffffff"/>
  <rect x="14" y="14" width="${W - 28}" height="${H - 28}" fill="none" stroke="${PINK}" stroke-width="28"/>
  <rect x="28" y="28" width="${W - 56}" height="190" fill="${PINK}"/>
  <text x="${W / 2}" y="120" font-size="76" font-weight="bold" fill="#fff" text-anchor="middle">ALERTA ROSA</text>
  <text x="${W / 2}" y="185" font-size="38" fill="#fff" text-anchor="middle">¿LA HAS VISTO? · OAXACA</text>
  ${photo}
  ${texts.join('\n  ')}
  <rect x="28" y="${H - 330}" width="${W - 56}" height="302" fill="#FDE6F2"/>
  <text x="${W / 2}" y="${H - 270}" font-size="34" font-weight="bold" fill="${PINK}" text-anchor="middle">Si tienes información, llama:</text>
  ${phones
    .map(
      (p, i) =>
        `<text x="${W / 2}" y="${H - 215 + i * 50}" font-size="36" font-weight="bold" fill="#222" text-anchor="middle">${esc(p)}</text>`,
    )
    .join('\n  ')}
  <text x="${W / 2}" y="${H - 50}" font-size="26" fill="#555" text-anchor="middle">Folio ${esc(input.folio)} · #AlertaRosa #Oaxaca</text>
</svg>`;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if ((line + ' ' + word).trim().length > width && line) {
      lines.push(line);
      line = word;
    } else line = (line + ' ' + word).trim();
  }
  if (line) lines.push(line);
  return lines;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
