import { readdirSync } from 'fs';
import {
  SVG_IMAGE,
  gif,
  jpegWithAppendedZip,
  jpegWithGps,
  jpegWithPhpComment,
  pngBomb,
  pngWithScriptChunk,
  smallJpeg,
  zipOfZeros,
} from '../support/images';
import { UploadOptions, uploadPhoto } from '../support/intake';
import { TestStack, minimalFicha, sleep } from '../support/stack';
import { TopicCollector } from '../support/topic-collector';

type Case = {
  name: string;
  expect: [number, string];
} & (
  | { method?: string; path?: string; body?: unknown; headers?: Record<string, string> }
  | {
      photo: () => Promise<Buffer | null> | Buffer | null;
      to?: 'consent' | 'noConsent' | 'deactivated' | 'missing';
      opts?: UploadOptions;
    }
);

const future = () => new Date(Date.now() + 3 * 86400_000).toISOString();
const ficha = (o: Record<string, unknown>) => minimalFicha(o);

/** Every case: the right 4xx with a stable code, and not a row, file or event left behind. */
const CASES: Case[] = [
  { name: 'name is a number', body: ficha({ fullName: 12345 }), expect: [400, 'VALIDATION_FAILED'] },
  { name: 'age is a string', body: ficha({ age: '24' }), expect: [400, 'VALIDATION_FAILED'] },
  { name: 'negative age', body: ficha({ age: -1 }), expect: [400, 'VALIDATION_FAILED'] },
  { name: 'age over 120', body: ficha({ age: 121 }), expect: [400, 'VALIDATION_FAILED'] },
  { name: 'fractional age', body: ficha({ age: 24.5 }), expect: [400, 'VALIDATION_FAILED'] },
  { name: 'overlong name', body: ficha({ fullName: 'A'.repeat(201) }), expect: [400, 'VALIDATION_FAILED'] },
  {
    name: 'script tag in name',
    body: ficha({ fullName: '<script>alert(1)</script>' }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'SQL fragment in name',
    body: ficha({ fullName: "Ana'); DROP TABLE intake.alerts;--" }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'SQL tautology in name',
    body: ficha({ fullName: "x' OR '1'='1" }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  { name: 'blank name', body: ficha({ fullName: '   ' }), expect: [400, 'VALIDATION_FAILED'] },
  {
    name: 'control character in name',
    body: ficha({ fullName: 'Ana\u0007 López' }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'overlong description',
    body: ficha({ description: 'x'.repeat(2001) }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'markup in description',
    body: ficha({ description: '<img src=x onerror=alert(1)>' }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'last seen in the future',
    body: ficha({ lastSeenAt: future() }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'reported in the future',
    body: ficha({ reportedAt: future() }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'date that is not a date',
    body: ficha({ lastSeenAt: 'ayer por la tarde' }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'last seen after the report',
    body: ficha({
      lastSeenAt: new Date(Date.now() - 60_000).toISOString(),
      reportedAt: new Date(Date.now() - 3600_000).toISOString(),
    }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'report before the year 2000',
    body: ficha({ reportedAt: '1999-12-31T10:00:00Z', lastSeenAt: '1999-12-30T10:00:00Z' }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'unknown INEGI code',
    body: ficha({ municipalityCode: '20999' }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'municipality of another state',
    body: ficha({ municipalityCode: '09001' }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'unknown municipality name',
    body: ficha({ municipalityCode: undefined, municipalityName: 'Springfield' }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'SQL in municipality name',
    body: ficha({ municipalityCode: undefined, municipalityName: "Oaxaca' OR 1=1 --" }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'code and name of different municipalities',
    body: ficha({ municipalityCode: '20067', municipalityName: 'Santa Lucía del Camino' }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'no municipality',
    body: ficha({ municipalityCode: undefined }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  { name: 'no name', body: ficha({ fullName: undefined }), expect: [400, 'VALIDATION_FAILED'] },
  { name: 'unknown field', body: ficha({ isAdmin: true }), expect: [400, 'VALIDATION_FAILED'] },
  {
    name: 'Amber folio for an adult',
    body: ficha({ amberFolio: 'AMBER-1' }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'unauthorised activating body',
    body: ficha({ activatingBody: 'CIA' }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  { name: 'impossible height', body: ficha({ heightCm: 999 }), expect: [400, 'VALIDATION_FAILED'] },
  {
    name: 'contact phone that is text',
    body: ficha({ contactPhones: ['llame ya'] }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'too many contact phones',
    body: ficha({ contactPhones: ['911', '089', '1', '22', '333', '444'] }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'invalid reporter e-mail',
    body: ficha({ private: { reporterEmail: 'no-es-correo' } }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'unknown private field',
    body: ficha({ private: { password: 'x' } }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'script in private notes',
    body: ficha({ private: { internalNotes: '<script>x</script>' } }),
    expect: [400, 'VALIDATION_FAILED'],
  },
  { name: 'activate is a string', body: ficha({ activate: 'yes' }), expect: [400, 'VALIDATION_FAILED'] },
  { name: 'body is an array', body: [ficha({})], expect: [400, 'VALIDATION_FAILED'] },
  { name: 'malformed JSON', body: '{"fullName": "Ana", ', expect: [400, 'MALFORMED_JSON'] },
  {
    name: 'not JSON at all',
    body: 'fullName=Ana',
    headers: { 'content-type': 'text/plain' },
    expect: [415, 'UNSUPPORTED_MEDIA_TYPE'],
  },
  {
    name: 'body over the JSON limit',
    body: ficha({ description: 'x'.repeat(300_000) }),
    expect: [413, 'PAYLOAD_TOO_LARGE'],
  },
  {
    name: 'overlong Idempotency-Key',
    body: ficha({}),
    headers: { 'idempotency-key': 'k'.repeat(300) },
    expect: [400, 'INVALID_IDEMPOTENCY_KEY'],
  },
  {
    name: 'update with negative age',
    method: 'PATCH',
    path: 'consent',
    body: { age: -5 },
    expect: [400, 'VALIDATION_FAILED'],
  },
  { name: 'empty update', method: 'PATCH', path: 'consent', body: {}, expect: [400, 'VALIDATION_FAILED'] },
  {
    name: 'update with script in clothing',
    method: 'PATCH',
    path: 'consent',
    body: { clothing: '<script>x</script>' },
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'update with future last-seen',
    method: 'PATCH',
    path: 'consent',
    body: { lastSeenAt: future() },
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'update to an unknown municipality',
    method: 'PATCH',
    path: 'consent',
    body: { municipalityCode: '20571' },
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'garbage If-Match',
    method: 'PATCH',
    path: 'consent',
    body: { age: 30 },
    headers: { 'if-match': 'abc' },
    expect: [400, 'INVALID_IF_MATCH'],
  },
  {
    name: 'id that is not a UUID',
    method: 'PATCH',
    path: '/api/v1/alerts/1%20OR%201=1',
    body: { age: 30 },
    expect: [400, 'INVALID_ID'],
  },
  {
    name: 'unknown alert',
    method: 'PATCH',
    path: '/api/v1/alerts/01930000-0000-7000-8000-000000000999',
    body: { age: 30 },
    expect: [404, 'ALERT_NOT_FOUND'],
  },
  {
    name: 'unknown outcome',
    method: 'POST',
    path: 'consent/deactivate',
    body: { outcome: 'encontrada' },
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'deactivation with an extra field',
    method: 'POST',
    path: 'consent/deactivate',
    body: { outcome: 'cancelada', motivo: 'x' },
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'list with an unknown status',
    method: 'GET',
    path: '/api/v1/alerts?status=borrada',
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'user with a weak password',
    method: 'POST',
    path: '/api/v1/users',
    body: { username: 'nueva', displayName: 'Nueva', role: 'operadora', password: 'corta' },
    headers: { admin: '1' },
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'area user without area',
    method: 'POST',
    path: '/api/v1/users',
    body: { username: 'area1', displayName: 'Área', role: 'area', password: 'una-contraseña-larga' },
    headers: { admin: '1' },
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'login with wrong types',
    method: 'POST',
    path: '/api/v1/auth/login',
    body: { username: ['admin'], password: 1 },
    headers: { authorization: '' },
    expect: [400, 'VALIDATION_FAILED'],
  },
  // Photos
  {
    name: 'image over 10 MB',
    photo: () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(10 * 1024 * 1024)]),
    expect: [413, 'PHOTO_TOO_LARGE'],
  },
  {
    name: 'text file named .jpg',
    photo: () => Buffer.from('esto no es una imagen'),
    expect: [415, 'PHOTO_UNSUPPORTED_TYPE'],
  },
  {
    name: 'zip bomb disguised as PNG',
    photo: () => zipOfZeros(),
    opts: { filename: 'foto.png', contentType: 'image/png' },
    expect: [415, 'PHOTO_UNSUPPORTED_TYPE'],
  },
  {
    name: 'PNG decompression bomb (144 Mpx)',
    photo: () => pngBomb(),
    opts: { filename: 'foto.png', contentType: 'image/png' },
    expect: [422, 'PHOTO_TOO_MANY_PIXELS'],
  },
  {
    name: 'GIF',
    photo: () => gif(),
    opts: { filename: 'foto.jpg' },
    expect: [415, 'PHOTO_UNSUPPORTED_TYPE'],
  },
  {
    name: 'SVG with script sent as PNG',
    photo: () => SVG_IMAGE,
    opts: { filename: 'foto.png', contentType: 'image/png' },
    expect: [415, 'PHOTO_UNSUPPORTED_TYPE'],
  },
  {
    name: 'JPEG with a ZIP appended (polyglot)',
    photo: () => jpegWithAppendedZip(),
    expect: [422, 'PHOTO_POLYGLOT'],
  },
  {
    name: 'PNG carrying an HTML page (polyglot)',
    photo: () => pngWithScriptChunk(),
    opts: { contentType: 'image/png' },
    expect: [422, 'PHOTO_POLYGLOT'],
  },
  {
    name: 'JPEG carrying PHP (polyglot)',
    photo: () => jpegWithPhpComment(),
    expect: [422, 'PHOTO_POLYGLOT'],
  },
  {
    name: 'truncated JPEG',
    photo: async () => (await jpegWithGps(800, 600)).subarray(0, 2000),
    expect: [422, 'PHOTO_UNREADABLE'],
  },
  {
    name: 'JPEG magic bytes then garbage',
    photo: () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(5000, 0x41)]),
    expect: [422, 'PHOTO_UNREADABLE'],
  },
  { name: 'image too small', photo: () => smallJpeg(8, 8), expect: [422, 'PHOTO_TOO_SMALL'] },
  { name: 'empty file', photo: () => Buffer.alloc(0), expect: [400, 'PHOTO_MISSING'] },
  { name: 'no file', photo: () => null, opts: { altText: 'sin archivo' }, expect: [400, 'PHOTO_MISSING'] },
  {
    name: 'file in another field',
    photo: () => smallJpeg(),
    opts: { field: 'imagen' },
    expect: [400, 'PHOTO_FIELD_INVALID'],
  },
  {
    name: 'two files',
    photo: () => smallJpeg(),
    opts: { extra: [{ field: 'photo', data: Buffer.from('x'), filename: 'b.jpg' }] },
    expect: [400, 'PHOTO_FIELD_INVALID'],
  },
  {
    name: 'script in alt text',
    photo: () => smallJpeg(),
    opts: { altText: '<script>x</script>' },
    expect: [400, 'VALIDATION_FAILED'],
  },
  {
    name: 'photo without the family’s consent',
    photo: () => smallJpeg(),
    to: 'noConsent',
    expect: [409, 'PHOTO_CONSENT_REQUIRED'],
  },
  {
    name: 'photo for a deactivated alert',
    photo: () => smallJpeg(),
    to: 'deactivated',
    expect: [409, 'INVALID_TRANSITION'],
  },
  {
    name: 'photo for an unknown alert',
    photo: () => smallJpeg(),
    to: 'missing',
    expect: [404, 'ALERT_NOT_FOUND'],
  },
  {
    name: 'photo sent as JSON',
    method: 'POST',
    path: 'consent/photos',
    body: { photo: 'aGVsbG8=' },
    expect: [415, 'UNSUPPORTED_MEDIA_TYPE'],
  },
];

describe('intake: malformed requests get the right 4xx and leave nothing behind', () => {
  let stack: TestStack;
  let topic: TopicCollector;
  const ids: Record<string, string> = {};

  const listFiles = (dir: string): string[] => {
    try {
      return readdirSync(dir, { recursive: true }).map(String).sort();
    } catch {
      return [];
    }
  };
  const snapshot = async () => ({
    rows: await stack.query(`
      SELECT (SELECT count(*) FROM intake.alerts)::int AS alerts,
             (SELECT coalesce(sum(revision), 0) FROM intake.alerts)::int AS revisions,
             (SELECT count(*) FROM intake.alert_private)::int AS private,
             (SELECT count(*) FROM intake.photos)::int AS photos,
             (SELECT count(*) FROM intake.users)::int AS users,
             (SELECT count(*) FROM intake.idempotency_keys)::int AS idempotency,
             (SELECT count(*) FROM intake.outbox)::int AS outbox,
             (SELECT count(*) FROM intake.audit_log)::int AS audit,
             (SELECT count(*) FROM intake.login_attempts)::int AS logins`),
    files: listFiles(stack.photoDir),
    events: topic.events.length,
  });

  beforeAll(async () => {
    stack = await TestStack.create();
    await stack.start('intake');
    topic = await TopicCollector.start(stack, 'alerts.v1');
    ids.consent = (
      await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ photoConsent: true }))
    ).body.id;
    ids.noConsent = (await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 40 }))).body.id;
    ids.deactivated = (
      await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 41, photoConsent: true }))
    ).body.id;
    await stack.http('intake', 'POST', `/api/v1/alerts/${ids.deactivated}/deactivate`, {
      outcome: 'cancelada',
    });
    ids.missing = '01930000-0000-7000-8000-000000000404';
    await topic.waitFor(ids.deactivated, 2);
  });

  afterAll(async () => {
    await topic?.stop();
    await stack?.teardown();
  });

  it(`has at least 40 cases (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = await snapshot();
    let res: { status: number; body: any };
    if ('photo' in c) {
      res = await uploadPhoto(stack, ids[c.to ?? 'consent'], await c.photo(), c.opts);
    } else {
      const method = c.method ?? 'POST';
      let path = c.path ?? '/api/v1/alerts';
      if (!path.startsWith('/')) {
        const [which, ...rest] = path.split('/');
        path = `/api/v1/alerts/${ids[which]}${rest.length ? `/${rest.join('/')}` : ''}`;
      }
      const { admin, ...headers } = c.headers ?? {};
      if (admin) headers.authorization = `Bearer ${stack.token('admin')}`;
      res = await stack.http('intake', method, path, c.body, headers);
    }
    expect({ status: res.status, code: res.body?.code }).toEqual({ status: c.expect[0], code: c.expect[1] });
    expect(typeof res.body.message).toBe('string');
    if (res.body.code === 'VALIDATION_FAILED') expect(res.body.fields?.length).toBeGreaterThan(0);
    await sleep(50);
    expect(await snapshot()).toEqual(before);
  });

  it('saw no event at all beyond the set-up', async () => {
    await sleep(500);
    expect(topic.events.map((e) => e.event.type)).toEqual([
      'AlertActivated',
      'AlertActivated',
      'AlertActivated',
      'AlertDeactivated',
    ]);
    expect(listFiles(stack.photoDir)).toEqual([]);
  });
});
