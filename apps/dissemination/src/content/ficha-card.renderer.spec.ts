import { createServer } from 'http';
import { AddressInfo } from 'net';
import sharp from 'sharp';
import { FichaCardRenderer } from './ficha-card.renderer';

const ficha = {
  fullName: 'Ana Martínez López',
  age: 24,
  municipalityCode: '20067',
  municipalityName: 'Oaxaca de Juárez',
  lastSeenAt: '2026-11-27T23:30:00Z',
  lastSeenPlace: 'Centro <histórico> & mercado',
  description: null,
};
const phones = [{ label: 'Emergencias', number: '911' }];

describe('ficha card', () => {
  it('renders a 1000×1250 PNG with the consented photo when ficha.photoUrl is present, and without it otherwise', async () => {
    const photo = await sharp({ create: { width: 300, height: 400, channels: 3, background: '#3366cc' } })
      .jpeg()
      .toBuffer();
    const server = createServer((req, res) => {
      if (req.url === '/photo.jpg') {
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        res.end(photo);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const renderer = new FichaCardRenderer(2000);
      const without = await renderer.renderNow({ folio: 'AR-2026-0001', ficha, phones });
      const withPhoto = await renderer.renderNow({
        folio: 'AR-2026-0001',
        ficha: { ...ficha, photoUrl: `${base}/photo.jpg` },
        phones,
      });
      const gone = await renderer.renderNow({
        folio: 'AR-2026-0001',
        ficha: { ...ficha, photoUrl: `${base}/missing.jpg` },
        phones,
      });
      for (const png of [without, withPhoto, gone]) {
        const meta = await sharp(png).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['png', 1000, 1250]);
      }
      // The photo area (blue) is present only in the card with the photo.
      const pixel = async (png: Buffer) =>
        (await sharp(png).extract({ left: 280, top: 500, width: 1, height: 1 }).raw().toBuffer())[2];
      expect(await pixel(withPhoto)).toBeGreaterThan(150);
      expect(await pixel(without)).not.toBe(await pixel(withPhoto));
      expect(gone.equals(without)).toBe(true);
      // The frame is pink.
      const [r, g, b] = await sharp(withPhoto)
        .extract({ left: 20, top: 600, width: 1, height: 1 })
        .raw()
        .toBuffer();
      expect([r, g, b]).toEqual([0xe6, 0x00, 0x7e]);
    } finally {
      server.close();
    }
  });
});
