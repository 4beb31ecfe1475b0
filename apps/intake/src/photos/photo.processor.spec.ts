import sharp from 'sharp';
import { imageEnd, processPhoto, sniffFormat } from './photo.processor';

const limits = { maxBytes: 10 * 1024 * 1024, maxPixels: 40_000_000 };
const image = (format: 'jpeg' | 'png' | 'webp') =>
  sharp({ create: { width: 300, height: 200, channels: 3, background: '#d63384' } })
    [format]()
    .withExif({ IFD0: { Make: 'Prueba' }, IFD3: { GPSLatitudeRef: 'N' } })
    .toBuffer();

describe('photo processor', () => {
  it.each(['jpeg', 'png', 'webp'] as const)(
    'recognises %s by content and finds where it ends',
    async (format) => {
      const buf = await image(format);
      expect(sniffFormat(buf)).toBe(format);
      expect(imageEnd(buf, format)).toBe(buf.length);
      expect(imageEnd(Buffer.concat([buf, Buffer.from('PK\u0003\u0004tail')]), format)).toBe(buf.length);
    },
  );

  it('re-encodes every variant as JPEG without metadata, never enlarging', async () => {
    const out = await processPhoto(await image('png'), limits);
    expect(out.sourceFormat).toBe('png');
    expect(out.variants.map((v) => [v.name, v.width, v.height])).toEqual([
      ['full', 300, 200],
      ['medium', 300, 200],
      ['thumb', 300, 200],
    ]);
    for (const v of out.variants) {
      const meta = await sharp(v.data).metadata();
      expect([meta.format, meta.exif, meta.xmp]).toEqual(['jpeg', undefined, undefined]);
    }
  });

  it('refuses an image over the pixel budget before decoding it', async () => {
    const buf = await image('jpeg');
    await expect(processPhoto(buf, { ...limits, maxPixels: 50_000 })).rejects.toMatchObject({
      response: { code: 'PHOTO_TOO_MANY_PIXELS' },
    });
  });
});
