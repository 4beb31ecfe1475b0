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
        expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1000, 1250]);
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
      // A JPEG: its pink may be a step off #E6007E.
      expect([r, g, b].map((c, i) => Math.abs(c - [0xe6, 0x00, 0x7e][i]) <= 4)).toEqual([true, true, true]);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('renders a card once per version of the ficha (photo fetched once); a version with another photo, or none, is another card', async () => {
    const photo = await sharp({ create: { width: 300, height: 400, channels: 3, background: '#3366cc' } })
      .jpeg()
      .toBuffer();
    let fetches = 0;
    const server = createServer((req, res) => {
      fetches++;
      if (req.url === '/p.jpg') {
        res.writeHead(200, { 'content-type': 'image/jpeg' });
        res.end(photo);
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const input = { folio: 'AR-2026-0002', ficha: { ...ficha, photoUrl: `${base}/p.jpg` }, phones };
    try {
      const renderer = new FichaCardRenderer(2000);
      // The 30 posts of a version ask at once: one fetch, one rendering.
      const cards = await Promise.all(Array.from({ length: 30 }, () => renderer.render(input)));
      expect(cards.every((c) => c.data === cards[0].data && c.photo === 'shown')).toBe(true);
      expect(fetches).toBe(1);
      // Consent withdrawn: the next version has no photo (its posts get a card without it).
      const withdrawn = await renderer.render({ ...input, ficha: { ...ficha, photoUrl: undefined } });
      expect(withdrawn.photo).toBe('none');
      expect(withdrawn.data.equals(cards[0].data)).toBe(false);
      // A photo deleted meanwhile (its URL answers 404) is not on a version's card.
      const gone = await renderer.render({ ...input, ficha: { ...ficha, photoUrl: `${base}/old.jpg` } });
      expect(gone.photo).toBe('gone');
      expect(gone.data.equals(withdrawn.data)).toBe(true);
      // Another version with other data is another card, even for the same alert.
      const d = await renderer.render({ ...input, ficha: { ...input.ficha, age: 25 } });
      expect(d.data.equals(cards[0].data)).toBe(false);
      expect(fetches).toBe(3);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('keeps no card made without its photo because the photo could not be fetched: the next post tries again', async () => {
    const renderer = new FichaCardRenderer(500);
    const input = {
      folio: 'AR-2026-0004',
      ficha: { ...ficha, photoUrl: 'http://127.0.0.1:1/p.jpg' },
      phones,
    };
    const first = await renderer.render(input);
    const second = await renderer.render(input);
    expect([first.photo, second.photo]).toEqual(['unavailable', 'unavailable']);
    expect(second.data).not.toBe(first.data); // rendered again, not taken from the cache
  });

  it('warms up without a photo host or a ficha', async () => {
    await expect(new FichaCardRenderer(500).warmUp()).resolves.toBeUndefined();
  });

  it('renders the card without the photo when the photo cannot be fetched', async () => {
    const renderer = new FichaCardRenderer(500);
    const unreachable = await renderer.render({
      folio: 'AR-2026-0003',
      ficha: { ...ficha, photoUrl: 'http://127.0.0.1:1/p.jpg' },
      phones,
    });
    const plain = await renderer.render({ folio: 'AR-2026-0003', ficha, phones });
    expect(unreachable.photo).toBe('unavailable');
    expect(plain.photo).toBe('none');
    expect(unreachable.data.equals(plain.data)).toBe(true);
  });
});
