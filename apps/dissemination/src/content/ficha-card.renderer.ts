import { PublicFicha } from '@alerta-rosa/contracts';
import { createHash } from 'crypto';
import sharp from 'sharp';
import { ContactPhone, formatLastSeen } from './post.templates';

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
 * last seen, folio and contact numbers. SVG rendered to PNG by sharp (librsvg).
 *
 * The photo is fetched for every card (so a photo withdrawn a moment ago is never put on a card again),
 * and the rendered card is cached by what it shows (a hash of its SVG, photo included): the 30 posts of
 * one version render once, and two cards that differ in anything never share an entry.
 */
export class FichaCardRenderer {
  private readonly cards = new Lru<Promise<Buffer>>(32);
  /** Resized photos by the hash of the bytes fetched (the fetch itself is never skipped). */
  private readonly photos = new Lru<Promise<Buffer | null>>(16);

  constructor(private readonly photoTimeoutMs: number) {}

  async render(input: CardInput): Promise<RenderedCard> {
    const { jpeg, photo } = input.ficha.photoUrl
      ? await this.fetchPhoto(input.ficha.photoUrl)
      : { jpeg: null, photo: 'none' as const };
    const svg = cardSvg(input, jpeg);
    const key = sha256(svg);
    let card = this.cards.get(key);
    if (!card) {
      card = toPng(svg);
      this.cards.set(key, card);
      card.catch(() => this.cards.delete(key));
    }
    return { png: await card, photo };
  }

  /** One card, uncached (tests, benchmarks). */
  async renderNow(input: CardInput): Promise<Buffer> {
    const { jpeg } = input.ficha.photoUrl ? await this.fetchPhoto(input.ficha.photoUrl) : { jpeg: null };
    return toPng(cardSvg(input, jpeg));
  }

  /**
   * The photo for the card, or why there is none. A photo that cannot be fetched never stops the post:
   * the card goes out without it (and says so in its alt text) rather than 30 posts failing.
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
    const key = sha256(raw);
    let resized = this.photos.get(key);
    if (!resized) {
      resized = sharp(raw)
        .resize(420, 520, { fit: 'cover' })
        .jpeg({ quality: 85 })
        .toBuffer()
        .catch(() => null);
      this.photos.set(key, resized);
    }
    const jpeg = await resized;
    return jpeg ? { jpeg, photo: 'shown' } : { jpeg: null, photo: 'unavailable' };
  }
}

function toPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png({ compressionLevel: 6 }).toBuffer();
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
