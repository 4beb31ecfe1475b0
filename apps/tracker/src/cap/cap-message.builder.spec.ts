import { PublicFicha } from '@alerta-rosa/contracts';
import { parseXml, validateCap } from '../../../../test/support/xml-validation';
import { activeInfo, cancelInfo } from './cap-content';
import { CapMessage, capReferences, renderCapXml } from './cap-message.builder';

const ficha: PublicFicha = {
  fullName: 'Ana <Martínez> & López',
  age: 16,
  municipalityCode: '20067',
  municipalityName: 'Oaxaca de Juárez',
  lastSeenAt: '2026-11-27T14:00:00-06:00',
  lastSeenPlace: 'Mercado 20 de Noviembre',
  description: null,
  heightCm: 158,
  clothing: 'Sudadera gris',
  isMinor: true,
  amberFolio: 'AMBER-OAX-0007',
  photoConsent: true,
  photoUrl: 'https://fotos.example/public/photos/p1/full.jpg',
  contactPhones: ['911', '089'],
  activatingBody: 'SSP',
};

const input = {
  folio: 'AR-2026-0042',
  ficha,
  expires: new Date('2026-11-28T20:00:00Z'),
  senderName: 'SSP Oaxaca — Unidad de Género',
  web: 'https://alertas.example/cap/alerts.atom',
  seat: { lat: 17.06542, lng: -96.72365 },
  radiusKm: 30,
};

function message(over: Partial<CapMessage> = {}): CapMessage {
  return {
    identifier: 'AR-2026-0042-m1',
    sender: 'alerta-rosa@ssp.oaxaca.gob.mx',
    sent: new Date('2026-11-27T20:00:00.500Z'),
    status: 'Actual',
    msgType: 'Alert',
    scope: 'Public',
    references: [],
    incidents: 'AR-2026-0042',
    info: [activeInfo(input)],
    ...over,
  };
}

describe('CAP 1.2 message', () => {
  it('an activation is a schema-valid Alert in es-MX with the required info, area and photo resource', async () => {
    const xml = renderCapXml(message());
    const validation = await validateCap(xml);
    expect(validation.errors).toEqual([]);
    const alert = parseXml(xml).alert;
    expect(alert.sent).toBe('2026-11-27T14:00:00-06:00');
    expect(alert.msgType).toBe('Alert');
    const [info] = alert.info;
    expect(info).toMatchObject({
      language: 'es-MX',
      category: ['Rescue'],
      event: 'Alerta Rosa',
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Likely',
      expires: '2026-11-28T14:00:00-06:00',
    });
    expect(info.description).toContain('Ana <Martínez> & López');
    expect(info.description).toContain('Alerta Amber (folio AMBER-OAX-0007)');
    expect(info.instruction).toContain('911 (emergencias)');
    expect(info.instruction).toContain('089 (denuncia anónima)');
    expect(info.area[0]).toEqual({
      areaDesc: 'Oaxaca de Juárez, Oaxaca',
      circle: '17.06542,-96.72365 30',
      geocode: { valueName: 'INEGI', value: '20067' },
    });
    expect(info.resource[0]).toMatchObject({ mimeType: 'image/jpeg', uri: ficha.photoUrl });
    // Markup in the ficha is escaped, not interpreted.
    expect(xml).toContain('Ana &lt;Martínez&gt; &amp; López');
  });

  it('has no photo resource without consent', () => {
    const info = activeInfo({ ...input, ficha: { ...ficha, photoConsent: false } });
    expect(info.resources).toEqual([]);
  });

  it('a Cancel references the earlier messages, names no person and carries no photo', async () => {
    const refs = [
      {
        sender: 'alerta-rosa@ssp.oaxaca.gob.mx',
        identifier: 'AR-2026-0042-m1',
        sent: new Date('2026-11-27T20:00:00Z'),
      },
      {
        sender: 'alerta-rosa@ssp.oaxaca.gob.mx',
        identifier: 'AR-2026-0042-m2',
        sent: new Date('2026-11-27T21:15:30Z'),
      },
    ];
    const xml = renderCapXml(
      message({
        identifier: 'AR-2026-0042-m3',
        msgType: 'Cancel',
        references: refs,
        info: [cancelInfo(input, 'localizada_con_vida')],
      }),
    );
    expect((await validateCap(xml)).errors).toEqual([]);
    const alert = parseXml(xml).alert;
    expect(alert.references).toBe(
      'alerta-rosa@ssp.oaxaca.gob.mx,AR-2026-0042-m1,2026-11-27T14:00:00-06:00 alerta-rosa@ssp.oaxaca.gob.mx,AR-2026-0042-m2,2026-11-27T15:15:30-06:00',
    );
    expect(alert.info[0].description).toContain('localizada con vida');
    expect(alert.info[0].resource).toBeUndefined();
    expect(xml).not.toContain('Martínez');
  });

  it('references are space-separated sender,identifier,sent triples', () => {
    expect(capReferences([{ sender: 's', identifier: 'i', sent: new Date('2026-01-01T06:00:00Z') }])).toBe(
      's,i,2026-01-01T00:00:00-06:00',
    );
  });
});
