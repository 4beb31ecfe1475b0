import { HttpStatus } from '@nestjs/common';
import { ApiError } from '@alerta-rosa/http';
import sharp, { Metadata } from 'sharp';

export type PhotoFormat = 'jpeg' | 'png' | 'webp';

/** Sizes kept for each photo (longest side, px); every one is re-encoded JPEG without metadata. */
export const PHOTO_VARIANTS = [
  { name: 'full', size: 2048 },
  { name: 'medium', size: 1024 },
  { name: 'thumb', size: 320 },
] as const;
export type PhotoVariantName = (typeof PHOTO_VARIANTS)[number]['name'];

export interface ProcessedVariant {
  name: PhotoVariantName;
  width: number;
  height: number;
  data: Buffer;
}

export interface ProcessedPhoto {
  sourceFormat: PhotoFormat;
  sourceBytes: number;
  variants: ProcessedVariant[];
}

export interface PhotoLimits {
  maxBytes: number;
  maxPixels: number;
}

const MIN_SIDE = 32;

const reject = (status: HttpStatus, code: string, message: string) => new ApiError(status, code, message);

/** The type a file really is, from its first bytes (never from its name or Content-Type). */
export function sniffFormat(buf: Buffer): PhotoFormat | null {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  if (
    buf.length >= 8 &&
    buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  ) {
    return 'png';
  }
  if (
    buf.length >= 12 &&
    buf.toString('latin1', 0, 4) === 'RIFF' &&
    buf.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return 'webp';
  }
  return null;
}

/** Where the image's own structure ends; anything after it is another file riding along. */
export function imageEnd(buf: Buffer, format: PhotoFormat): number | null {
  switch (format) {
    case 'png':
      return pngEnd(buf);
    case 'jpeg':
      return jpegEnd(buf);
    case 'webp': {
      const size = buf.readUInt32LE(4);
      const end = 8 + size + (size % 2);
      return end <= buf.length ? end : null;
    }
  }
}

function pngEnd(buf: Buffer): number | null {
  let pos = 8;
  while (pos + 12 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const next = pos + 12 + len;
    if (next > buf.length) return null;
    if (type === 'IEND') return next;
    pos = next;
  }
  return null;
}

function jpegEnd(buf: Buffer): number | null {
  let pos = 2;
  while (pos + 1 < buf.length) {
    if (buf[pos] !== 0xff) return null;
    const marker = buf[pos + 1];
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (marker === 0xd9) return pos + 2; // EOI
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    if (pos + 4 > buf.length) return null;
    const len = buf.readUInt16BE(pos + 2);
    pos += 2 + len;
    if (marker === 0xda) {
      // Entropy-coded data runs until a marker that is neither stuffing (FF00) nor a restart (FFD0–D7).
      while (pos + 1 < buf.length) {
        if (buf[pos] === 0xff) {
          const m = buf[pos + 1];
          if (m !== 0x00 && !(m >= 0xd0 && m <= 0xd7) && m !== 0xff) break;
        }
        pos += 1;
      }
    }
  }
  return null;
}

/** Text that makes an image also a web page or a script when served or opened elsewhere. */
// Markers long enough that compressed pixel data practically never contains them by chance.
const ACTIVE_CONTENT = [
  /<script/i,
  /<\?php/i,
  /<html[\s>]/i,
  /<!doctype/i,
  /<svg[\s>]/i,
  /<iframe/i,
  /javascript:/i,
];

/**
 * Checks a photo by its content and re-encodes it: JPEG/PNG/WebP only, nothing appended or embedded
 * (polyglots), no more than `maxPixels` decoded (decompression bombs are refused from the header,
 * before decoding), then every size variant re-encoded as JPEG with all metadata (EXIF, GPS, XMP,
 * IPTC) dropped and the orientation applied.
 */
export async function processPhoto(buf: Buffer, limits: PhotoLimits): Promise<ProcessedPhoto> {
  if (buf.length === 0)
    throw reject(HttpStatus.BAD_REQUEST, 'PHOTO_MISSING', 'El archivo de la foto está vacío.');
  if (buf.length > limits.maxBytes) {
    throw reject(
      HttpStatus.PAYLOAD_TOO_LARGE,
      'PHOTO_TOO_LARGE',
      'La foto excede el tamaño máximo permitido.',
    );
  }
  const format = sniffFormat(buf);
  if (!format) {
    throw reject(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      'PHOTO_UNSUPPORTED_TYPE',
      'El archivo no es una imagen JPEG, PNG ni WebP.',
    );
  }
  const end = imageEnd(buf, format);
  if (end === null)
    throw reject(HttpStatus.UNPROCESSABLE_ENTITY, 'PHOTO_UNREADABLE', 'La imagen está dañada o incompleta.');
  const latin1 = buf.toString('latin1');
  if (end < buf.length || ACTIVE_CONTENT.some((re) => re.test(latin1))) {
    throw reject(
      HttpStatus.UNPROCESSABLE_ENTITY,
      'PHOTO_POLYGLOT',
      'El archivo contiene datos ajenos a la imagen (un archivo oculto, código o el video de una «foto en movimiento»). Exporte o capture la foto como imagen simple e intente de nuevo.',
    );
  }
  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch {
    throw reject(HttpStatus.UNPROCESSABLE_ENTITY, 'PHOTO_UNREADABLE', 'La imagen está dañada o incompleta.');
  }
  if (meta.format !== format) {
    throw reject(HttpStatus.UNPROCESSABLE_ENTITY, 'PHOTO_UNREADABLE', 'La imagen está dañada o incompleta.');
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > limits.maxPixels || (meta.pages ?? 1) > 1) {
    throw reject(
      HttpStatus.UNPROCESSABLE_ENTITY,
      'PHOTO_TOO_MANY_PIXELS',
      'La imagen tiene demasiados píxeles (posible bomba de descompresión) o varias páginas.',
    );
  }
  if (width < MIN_SIDE || height < MIN_SIDE) {
    throw reject(
      HttpStatus.UNPROCESSABLE_ENTITY,
      'PHOTO_TOO_SMALL',
      `La imagen debe medir al menos ${MIN_SIDE} px por lado.`,
    );
  }
  try {
    // limitInputPixels guards the decoder itself too, should a header lie about the dimensions.
    const base = sharp(buf, { limitInputPixels: limits.maxPixels, failOn: 'error', sequentialRead: true })
      .rotate()
      .toColourspace('srgb');
    const variants = await Promise.all(
      PHOTO_VARIANTS.map(async ({ name, size }) => {
        const { data, info } = await base
          .clone()
          .resize({ width: size, height: size, fit: 'inside', withoutEnlargement: true })
          .flatten({ background: '#ffffff' })
          .jpeg({ quality: 85, mozjpeg: true })
          .toBuffer({ resolveWithObject: true });
        return { name, width: info.width, height: info.height, data };
      }),
    );
    return { sourceFormat: format, sourceBytes: buf.length, variants };
  } catch (err) {
    if (/pixel limit/i.test((err as Error).message)) {
      throw reject(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'PHOTO_TOO_MANY_PIXELS',
        'La imagen tiene demasiados píxeles (posible bomba de descompresión).',
      );
    }
    throw reject(HttpStatus.UNPROCESSABLE_ENTITY, 'PHOTO_UNREADABLE', 'La imagen está dañada o incompleta.');
  }
}
