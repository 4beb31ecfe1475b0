import { randomBytes } from 'crypto';
import sharp from 'sharp';
import { deflateSync } from 'zlib';

/** Test images, generated at test time (sharp, or byte by byte for the hostile ones). */

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const solid = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 214, g: 51, b: 132 } } });

/** GPS coordinates a phone writes into EXIF (Oaxaca de Juárez). */
const OAXACA_GPS = {
  GPSLatitudeRef: 'N',
  GPSLatitude: '17/1 3/1 30/1',
  GPSLongitudeRef: 'W',
  GPSLongitude: '96/1 43/1 0/1',
};

/**
 * A phone photo: 4000×3000, noisy (sensor grain, so it compresses like a real one: 3–6 MB), EXIF of a
 * camera with GPS. `seed` varies its colours.
 */
export async function phonePhoto(seed: number): Promise<Buffer> {
  const [w, h] = [4000, 3000];
  const raw = Buffer.alloc(w * h * 3);
  const noise = randomBytes(raw.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      raw[i] = Math.min(255, ((x * 200) / w + seed * 40 + (noise[i] >> 2)) | 0);
      raw[i + 1] = Math.min(255, ((y * 180) / h + (noise[i + 1] >> 2)) | 0);
      raw[i + 2] = Math.min(255, (120 + (noise[i + 2] >> 2)) | 0);
    }
  const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 88 })
    .withExif({
      IFD0: { Make: 'Telefono', Model: 'Camara trasera', DateTime: '2026:11:30 18:04:11' },
      IFD3: OAXACA_GPS,
    })
    .toBuffer();
  if (jpeg.length < 3e6 || jpeg.length > 6e6) throw new Error(`phone photo of ${jpeg.length} bytes`);
  return jpeg;
}

/** A camera-like JPEG: EXIF with make/model and GPS coordinates (Oaxaca de Juárez). */
export function jpegWithGps(width = 1600, height = 1200): Promise<Buffer> {
  return solid(width, height)
    .jpeg({ quality: 90 })
    .withExif({
      IFD0: { Make: 'CamaraDePrueba', Model: 'AR-1', Copyright: 'familia' },
      IFD3: OAXACA_GPS,
    })
    .toBuffer();
}

export function pngWithExif(width = 800, height = 600): Promise<Buffer> {
  return solid(width, height)
    .png()
    .withExif({ IFD0: { Make: 'CamaraDePrueba' }, IFD3: { GPSLatitudeRef: 'N' } })
    .toBuffer();
}

export function webpWithExif(width = 800, height = 600): Promise<Buffer> {
  return solid(width, height)
    .webp()
    .withExif({ IFD0: { Make: 'CamaraDePrueba' }, IFD3: { GPSLatitudeRef: 'N' } })
    .toBuffer();
}

export function smallJpeg(width = 120, height = 160): Promise<Buffer> {
  return solid(width, height).jpeg().toBuffer();
}

export function gif(): Promise<Buffer> {
  return solid(64, 64).gif().toBuffer();
}

/**
 * A decompression bomb: a valid 1-bit PNG of 12 000 × 12 000 px (144 Mpx) whose zeros deflate to a
 * few kilobytes.
 */
export function pngBomb(side = 12_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const rowBytes = 1 + Math.ceil(side / 8);
  const idat = deflateSync(Buffer.alloc(rowBytes * side), { level: 9 });
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A ZIP archive of zeros (a zip bomb in miniature), to be sent named photo.png as image/png. */
export function zipOfZeros(): Buffer {
  const data = deflateSync(Buffer.alloc(5_000_000), { level: 9 });
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(8, 8); // deflate
  header.writeUInt32LE(data.length, 18);
  header.writeUInt32LE(5_000_000, 22);
  header.writeUInt16LE(9, 26);
  return Buffer.concat([header, Buffer.from('zeros.bin'), data]);
}

/** A PNG that is also a web page: an HTML/script text chunk inside a valid image. */
export async function pngWithScriptChunk(): Promise<Buffer> {
  const png = await solid(64, 64).png().toBuffer();
  const iendAt = png.length - 12;
  const text = pngChunk(
    'tEXt',
    Buffer.from('Comment\u0000<html><script>alert(document.cookie)</script></html>', 'latin1'),
  );
  return Buffer.concat([png.subarray(0, iendAt), text, png.subarray(iendAt)]);
}

/** A JPEG with a ZIP appended after its end-of-image marker (a classic polyglot). */
export async function jpegWithAppendedZip(): Promise<Buffer> {
  return Buffer.concat([await smallJpeg(), zipOfZeros()]);
}

/** A JPEG whose comment segment carries PHP. */
export async function jpegWithPhpComment(): Promise<Buffer> {
  const jpeg = await smallJpeg();
  const payload = Buffer.from('<?php system($_GET["c"]); ?>', 'latin1');
  const seg = Buffer.alloc(4);
  seg[0] = 0xff;
  seg[1] = 0xfe;
  seg.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), seg, payload, jpeg.subarray(2)]);
}

export const SVG_IMAGE = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><script>alert(1)</script><rect width="64" height="64"/></svg>',
);

/** A photo-sized JPEG with noise (compresses like a real photo, a few MB) and EXIF/GPS. */
export function noisyJpegWithGps(width = 4000, height = 3000): Promise<Buffer> {
  return sharp({
    create: {
      width,
      height,
      channels: 3,
      background: '#000',
      noise: { type: 'gaussian', mean: 128, sigma: 40 },
    },
  })
    .jpeg({ quality: 85 })
    .withExif({
      IFD0: { Make: 'CamaraDePrueba' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '17/1 3/1 30/1' },
    })
    .toBuffer();
}

/** The card's pink (#E6007E). */
export const CARD_PINK = [0xe6, 0x00, 0x7e];

/** A pixel of the card's pink frame: the card is a palette PNG, so its colours may be off by a step or two. */
export function isCardPink(rgb: number[]): boolean {
  return CARD_PINK.every((c, i) => Math.abs(c - rgb[i]) <= 4);
}
