import { PublicFicha } from '@alerta-rosa/contracts';
import { createHash } from 'crypto';
import type Sharp from 'sharp';
import { ContactPhone, formatLastSeen } from './post.templates';

let sharpModule: typeof Sharp | undefined;
/** sharp (libvips) is loaded by the warm-up after the service is ready, or by the first card. */
const sharp = ((...args: unknown[]) => {
  sharpModule ??= require('sharp') as typeof Sharp;
  return (sharpModule as (...a: unknown[]) => ReturnType<typeof Sharp>)(...args);
}) as typeof Sharp;

const W = 1000;
const H = 1250;
const PINK = '#E6007E';

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
  png: Buffer;
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
    const key = sha256(JSON.stringify([input.folio, input.ficha, input.phones]));
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
    return (await this.renderCard(input)).png;
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
    const { jpeg, photo } = input.ficha.photoUrl
      ? await this.fetchPhoto(input.ficha.photoUrl)
      : { jpeg: null, photo: 'none' as const };
    return { png: await toPng(cardSvg(input, jpeg)), photo };
  }

  /**
   * The photo for the card, or why there is none. A photo that cannot be fetched never stops the post:
   * the card goes out without it (and says so in its alt text) rather than 30 posts failing. (fetch keeps
   * its connections to the photo host alive and pooled.)
   */
  private async fetchPhoto(url: string): Promise<{ jpeg: Buffer | null; photo: CardPhoto }> {
    let raw: Buffer;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.photoTimeoutMs) });
      if (res.status === 404 || res.status === 410) return { jpeg: null, photo: 'gone' };
      if (!res.ok) return { jpeg: null, photo: 'unavailable' };
      raw = Buffer.from(await res.arrayBuffer());
    } catch {
      return { jpeg: null, photo: 'unavailable' };
    }
    const jpeg = await sharp(raw)
      .rotate() // phone photos: EXIF orientation
      .resize(420, 520, { fit: 'cover' })
      .jpeg({ quality: 85 })
      .toBuffer()
      .catch(() => null);
    return jpeg ? { jpeg, photo: 'shown' } : { jpeg: null, photo: 'unavailable' };
  }
}

const WARM_UP_FICHA = {
  fullName: 'Calentamiento',
  age: 30,
  municipalityName: 'Oaxaca de Juárez',
  lastSeenAt: '2026-01-01T00:00:00Z',
} as PublicFicha;

/**
 * A palette PNG (256 colours, no dithering): the card is flat colour and text plus one small photo, so
 * it keeps its text sharp at under half the bytes of a full-colour PNG (about 200 KB instead of 460 KB
 * with a noisy phone photo), which every platform uploads faster.
 */
function toPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg))
    .png({ palette: true, colours: 256, dither: 0, compressionLevel: 9, effort: 1 })
    .toBuffer();
}

export function cardSvg(input: CardInput, photoJpeg: Buffer | null): string {
  const f = input.ficha;
  const nameLines = wrap(f.fullName.toUpperCase(), photoJpeg ? 22 : 30).slice(0, 3);
  const textX = photoJpeg ? 520 : 80;
  const lastSeen = wrap(`Vista por última vez: ${formatLastSeen(f.lastSeenAt)}`, photoJpeg ? 30 : 42);
  const where = wrap(
    `En: ${f.municipalityName}${f.lastSeenPlace ? `, ${f.lastSeenPlace}` : ''}`,
    photoJpeg ? 30 : 42,
  ).slice(0, 3);
  let y = 330;
  const texts: string[] = [];
  for (const l of nameLines) {
    texts.push(`<text x="${textX}" y="${y}" font-size="44" font-weight="bold" fill="#222">${esc(l)}</text>`);
    y += 54;
  }
  y += 16;
  texts.push(`<text x="${textX}" y="${y}" font-size="36" fill="#222">Edad: ${f.age} años</text>`);
  y += 60;
  for (const l of [...lastSeen, ...where]) {
    texts.push(`<text x="${textX}" y="${y}" font-size="28" fill="#333">${esc(l)}</text>`);
    y += 38;
  }
  const photo = photoJpeg
    ? `<image x="70" y="270" width="420" height="520" href="data:image/jpeg;base64,${photoJpeg.toString('base64')}"/>` +
      `<rect x="70" y="270" width="420" height="520" fill="none" stroke="${PINK}" stroke-width="6"/>`
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
