import { PublicFicha } from '@alerta-rosa/contracts';
import sharp from 'sharp';
import { TransientError } from '../channels/channel.errors';
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
 * The ficha as an image card: pink frame, photo when the family consented (ficha.photoUrl), name, age,
 * last seen, folio and contact numbers. SVG rendered to PNG by sharp (librsvg).
 */
export class FichaCardRenderer {
  private readonly cache = new Map<string, Promise<Buffer>>();

  constructor(private readonly photoTimeoutMs: number) {}

  /** Renders once per alert version (every account posts the same card). */
  render(key: string, input: CardInput): Promise<Buffer> {
    let card = this.cache.get(key);
    if (!card) {
      card = this.renderNow(input);
      this.cache.set(key, card);
      card.catch(() => this.cache.delete(key));
      if (this.cache.size > 64) this.cache.delete(this.cache.keys().next().value!);
    }
    return card;
  }

  async renderNow(input: CardInput): Promise<Buffer> {
    const photo = input.ficha.photoUrl ? await this.fetchPhoto(input.ficha.photoUrl) : null;
    return sharp(Buffer.from(cardSvg(input, photo)))
      .png({ compressionLevel: 6 })
      .toBuffer();
  }

  private async fetchPhoto(url: string): Promise<Buffer | null> {
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.photoTimeoutMs) });
    } catch (err) {
      throw new TransientError(`photo fetch: ${(err as Error).name}`);
    }
    // Gone (consent withdrawn, photo purged): the card goes out without it.
    if (res.status === 404 || res.status === 410) return null;
    if (!res.ok) throw new TransientError(`photo fetch: ${res.status}`);
    const raw = Buffer.from(await res.arrayBuffer());
    try {
      return await sharp(raw).resize(420, 520, { fit: 'cover' }).jpeg({ quality: 85 }).toBuffer();
    } catch {
      return null;
    }
  }
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
