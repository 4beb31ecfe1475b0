import { CredentialsCipher } from '../accounts/credentials.cipher';
import { jitteredBackoff } from '../publishing/account-queues';
import {
  X_MAX_WEIGHTED_LENGTH,
  publicationMarker,
  renderAltText,
  renderPostText,
  weightedLength,
} from './post.templates';

const phones = [
  { label: 'Emergencias', number: '911' },
  { label: 'Denuncia anónima', number: '089' },
  { label: 'SSP Oaxaca', number: '951 501 5045' },
];
const ficha = {
  fullName: 'María Guadalupe Hernández de la Cruz Santiago Martínez',
  age: 16,
  municipalityCode: '20397',
  municipalityName: 'Heroica Ciudad de Huajuapan de León',
  lastSeenAt: '2026-11-27T23:30:00Z',
  lastSeenPlace:
    'Terminal de autobuses, saliendo hacia la carretera federal 190 rumbo a la ciudad de Oaxaca, con mochila rosa',
  description: 'Complexión delgada, cabello largo negro, vestía sudadera gris.',
};

describe('post templates', () => {
  it('keeps every X text within 280 weighted characters, with the folio marker, even for long fichas', () => {
    for (const kind of ['activation', 'update', 'located_notice'] as const) {
      for (const regions of [['Mixteca'], ['Costa', 'Istmo']]) {
        const text = renderPostText({
          kind,
          platform: 'x',
          folio: 'AR-2026-0042',
          version: 3,
          ficha,
          accountRegions: regions,
          phones,
        });
        expect(weightedLength(text)).toBeLessThanOrEqual(X_MAX_WEIGHTED_LENGTH);
        expect(text).toContain(publicationMarker('AR-2026-0042', 3));
        expect(text).toContain('#AlertaRosa');
        if (regions.length === 1) expect(text.startsWith('📍 Región Mixteca')).toBe(true);
      }
    }
  });

  it('shows last-seen time in Mexico City time and the contact numbers', () => {
    const text = renderPostText({
      kind: 'activation',
      platform: 'facebook',
      folio: 'AR-2026-0042',
      version: 1,
      ficha,
      accountRegions: [],
      phones,
    });
    expect(text).toContain('27 de noviembre de 2026'); // 23:30 UTC is 17:30 in Oaxaca the same day
    expect(text).toMatch(/5:30|17:30/);
    expect(text).toContain('911');
    expect(text).toContain('089');
    expect(renderAltText('AR-2026-0042', ficha, phones, false)).toContain('16 años');
  });

  it('alt text ends the operator’s photo description with a full stop before the next sentence', () => {
    const alt = renderAltText(
      'AR-2026-0042',
      { ...ficha, photoAltText: 'Sonríe, cabello recogido, blusa roja' },
      phones,
      true,
    );
    expect(alt).toContain('Sonríe, cabello recogido, blusa roja. Vista por última vez');
    const already = renderAltText(
      'AR-2026-0042',
      { ...ficha, photoAltText: 'Foto de frente.' },
      phones,
      true,
    );
    expect(already).toContain('Foto de frente. Vista por última vez');
  });

  it('located notice never carries personal data of the ficha', () => {
    const text = renderPostText({
      kind: 'located_notice',
      platform: 'x',
      folio: 'AR-2026-0042',
      version: 4,
      ficha,
      accountRegions: [],
      phones,
    });
    expect(text).toContain('LOCALIZADA');
    expect(text).not.toContain('María');
  });
});

describe('credentials cipher', () => {
  const k1 = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
  const k2 = `k2:${Buffer.alloc(32, 2).toString('base64')}`;

  it('round-trips, binds the ciphertext to its account and decrypts with an older key after rotation', () => {
    const old = new CredentialsCipher(k1);
    const { ciphertext, keyId } = old.encrypt('ssp-x', { accessToken: 'secret-token' });
    expect(keyId).toBe('k1');
    expect(ciphertext).not.toContain('secret-token');
    expect(() => old.decrypt('ssp-fb', ciphertext)).toThrow();
    const rotated = new CredentialsCipher(`${k2},${k1}`);
    expect(rotated.decrypt('ssp-x', ciphertext)).toEqual({ accessToken: 'secret-token' });
    expect(rotated.encrypt('ssp-x', {}).keyId).toBe('k2');
  });
});

describe('retry backoff', () => {
  it('grows exponentially, is capped, and jitters within [delay/2, delay]', () => {
    expect(jitteredBackoff(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(jitteredBackoff(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(jitteredBackoff(4, 1000, 60_000, () => 0)).toBe(4000);
    expect(jitteredBackoff(30, 1000, 60_000, () => 1)).toBe(60_000);
  });
});
