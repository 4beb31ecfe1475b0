import { existsSync, readdirSync } from 'fs';
import { join } from 'path';
import sharp from 'sharp';
import { jpegWithGps, pngWithExif, webpWithExif } from '../support/images';
import { fetchBytes, uploadPhoto } from '../support/intake';
import { TestStack, minimalFicha } from '../support/stack';
import { TopicCollector } from '../support/topic-collector';

const PRIVATE = {
  reporterName: 'Rosa Pérez Cruz',
  reporterPhone: '951 123 4567',
  relationship: 'madre',
  investigationFolder: 'CI-FGEO-12345/2026',
  healthConditions: 'diabetes tipo 1',
  internalNotes: 'Nota interna confidencial XYZZY',
};

describe('intake: the alert lifecycle over HTTP, with its events on alerts.v1', () => {
  let stack: TestStack;
  let topic: TopicCollector;
  const admin = () => stack.bearer('admin');

  beforeAll(async () => {
    stack = await TestStack.create();
    await stack.start('intake');
    topic = await TopicCollector.start(stack, 'alerts.v1');
  });

  afterAll(async () => {
    await topic?.stop();
    await stack?.teardown();
  });

  const draft = async (overrides: Record<string, unknown> = {}) => {
    const res = await stack.http(
      'intake',
      'POST',
      '/api/v1/alerts',
      minimalFicha({ activate: false, ...overrides }),
    );
    expect(res.status).toBe(201);
    return res;
  };
  const active = async (overrides: Record<string, unknown> = {}) => {
    const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha(overrides));
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('active');
    return res;
  };
  const row = async (id: string) =>
    (
      await stack.query<{ status: string; revision: number; version: number }>(
        `SELECT status, revision, version FROM intake.alerts WHERE id = $1`,
        [id],
      )
    )[0];

  it('keeps a new ficha as a draft without publishing, then activates it with a folio and AlertActivated', async () => {
    const created = await draft({
      private: PRIVATE,
      municipalityCode: undefined,
      municipalityName: 'huajuapan de leon',
    });
    expect(created.body).toMatchObject({ status: 'draft', folio: null, version: 1 });
    expect(created.body.ficha).toMatchObject({
      municipalityCode: '20039',
      municipalityName: 'Heroica Ciudad de Huajuapan de León',
    });
    expect(JSON.stringify(created.body)).not.toContain('XYZZY');
    const id = created.body.id;

    const got = await stack.http('intake', 'GET', `/api/v1/alerts/${id}`);
    expect(got.headers.get('etag')).toBe(created.headers.get('etag'));

    const activated = await stack.http('intake', 'POST', `/api/v1/alerts/${id}/activate`, undefined, {
      'if-match': got.headers.get('etag')!,
    });
    expect(activated.status).toBe(200);
    expect(activated.body).toMatchObject({ status: 'active', version: 1 });
    expect(activated.body.folio).toMatch(/^AR-\d{4}-\d{4}$/);
    expect(activated.body.activatedAt).not.toBeNull();

    const [event] = await topic.waitFor(id, 1);
    expect(event.event.type).toBe('AlertActivated');
    expect(event.key).toBe(id);
    expect(event.event.payload).toMatchObject({ folio: activated.body.folio, version: 1 });
    expect(event.event.payload.ficha).toMatchObject({
      isMinor: false,
      activatingBody: 'SSP',
      photoConsent: false,
      photoUrl: null,
    });
    // The private part never travels.
    for (const value of Object.values(PRIVATE)) expect(event.raw).not.toContain(value);
  });

  it('resolves the municipality by name without accents or case, flags minors with their Amber folio, records FGEO as activating body', async () => {
    const res = await active({
      municipalityCode: undefined,
      municipalityName: 'SANTA LUCIA DEL CAMINO',
      age: 15,
      amberFolio: 'AMBER-OAX-77',
      activatingBody: 'FGEO',
      indigenousLanguage: 'zapoteco',
    });
    expect(res.body.ficha).toMatchObject({
      municipalityName: 'Santa Lucía del Camino',
      isMinor: true,
      amberFolio: 'AMBER-OAX-77',
      activatingBody: 'FGEO',
      indigenousLanguage: 'zapoteco',
    });
    expect(res.body.activatingBody).toBe('FGEO');
    const [event] = await topic.waitFor(res.body.id, 1);
    expect(event.event.payload.ficha).toMatchObject({
      isMinor: true,
      amberFolio: 'AMBER-OAX-77',
      activatingBody: 'FGEO',
    });
    // Age corrected to 19: no longer a minor, the Amber folio goes with it.
    const corrected = await stack.http('intake', 'PATCH', `/api/v1/alerts/${res.body.id}`, { age: 19 });
    expect(corrected.body.ficha).toMatchObject({ isMinor: false, amberFolio: null });
    const [, update] = await topic.waitFor(res.body.id, 2);
    expect(update.event.payload.changedFields.sort()).toEqual(['age', 'amberFolio', 'isMinor']);
  });

  it('updates an active alert: new version, AlertUpdated naming the changed fields; a private-only change publishes nothing', async () => {
    const created = await active({ private: PRIVATE });
    const id = created.body.id;
    const upd = await stack.http(
      'intake',
      'PATCH',
      `/api/v1/alerts/${id}`,
      { clothing: 'Sudadera gris', heightCm: 158 },
      {
        'if-match': created.headers.get('etag')!,
      },
    );
    expect(upd.status).toBe(200);
    expect(upd.body.version).toBe(2);
    const events = await topic.waitFor(id, 2);
    expect(events[1].event.type).toBe('AlertUpdated');
    expect(events[1].event.payload.changedFields.sort()).toEqual(['clothing', 'heightCm']);
    expect(events[1].event.payload.ficha.clothing).toBe('Sudadera gris');

    const priv = await stack.http('intake', 'PATCH', `/api/v1/alerts/${id}`, {
      private: { internalNotes: 'Otra nota', medication: null },
    });
    expect(priv.status).toBe(200);
    expect(priv.body.version).toBe(2);
    expect(priv.body.revision).toBe(upd.body.revision + 1);
    expect(await topic.waitFor(id, 2)).toHaveLength(2);
    const read = await stack.http('intake', 'GET', `/api/v1/alerts/${id}/private`);
    expect(read.body.private).toMatchObject({ internalNotes: 'Otra nota', reporterName: 'Rosa Pérez Cruz' });

    const same = await stack.http('intake', 'PATCH', `/api/v1/alerts/${id}`, { clothing: 'Sudadera gris' });
    expect(same.body.revision).toBe(priv.body.revision); // nothing changed, nothing written
  });

  it('answers a stale If-Match with 412 STALE_VERSION and changes nothing', async () => {
    const created = await active();
    const id = created.body.id;
    const staleTag = created.headers.get('etag')!;
    expect(
      (await stack.http('intake', 'PATCH', `/api/v1/alerts/${id}`, { age: 25 }, { 'if-match': staleTag }))
        .status,
    ).toBe(200);
    const before = await row(id);
    for (const [method, path, body] of [
      ['PATCH', `/api/v1/alerts/${id}`, { age: 26 }],
      ['POST', `/api/v1/alerts/${id}/deactivate`, { outcome: 'cancelada' }],
    ] as const) {
      const res = await stack.http('intake', method, path, body, { 'if-match': staleTag });
      expect({ path, status: res.status, code: res.body.code }).toEqual({
        path,
        status: 412,
        code: 'STALE_VERSION',
      });
    }
    expect(await row(id)).toEqual(before);
    expect(await topic.waitFor(id, 2)).toHaveLength(2);
  });

  it('deactivates with an outcome (AlertDeactivated); a manual close by an admin needs a reason and is published as an override', async () => {
    const id = (await active()).body.id;
    const noOutcome = await stack.http('intake', 'POST', `/api/v1/alerts/${id}/deactivate`, {});
    expect(noOutcome.status).toBe(400);
    expect(noOutcome.body.fields[0].path).toBe('outcome');
    const res = await stack.http('intake', 'POST', `/api/v1/alerts/${id}/deactivate`, {
      outcome: 'localizada_con_vida',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'deactivated', outcome: 'localizada_con_vida', version: 2 });
    const events = await topic.waitFor(id, 2);
    expect(events.map((e) => e.event.type)).toEqual(['AlertActivated', 'AlertDeactivated']);
    expect(events[1].event.payload).toMatchObject({ outcome: 'localizada_con_vida', version: 2 });

    const reason = { reason: 'La cuenta de Facebook se retiró a mano; confirmado por Comunicación Social.' };
    expect((await stack.http('intake', 'POST', `/api/v1/alerts/${id}/close`, reason)).status).toBe(403); // operadora
    for (const body of [undefined, {}, { reason: '   ' }]) {
      const refused = await stack.http('intake', 'POST', `/api/v1/alerts/${id}/close`, body, admin());
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('CLOSE_REASON_REQUIRED');
      expect(refused.body.fields[0].path).toBe('reason');
    }
    const tooShort = await stack.http(
      'intake',
      'POST',
      `/api/v1/alerts/${id}/close`,
      { reason: 'porque' },
      admin(),
    );
    expect(tooShort.body.code).toBe('VALIDATION_FAILED');
    expect((await stack.http('intake', 'GET', `/api/v1/alerts/${id}`)).body.status).toBe('deactivated');
    const closed = await stack.http('intake', 'POST', `/api/v1/alerts/${id}/close`, reason, admin());
    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe('closed');
    const all = await topic.waitFor(id, 3);
    expect(all.map((e) => e.event.type)).toEqual([
      'AlertActivated',
      'AlertDeactivated',
      'AlertClosureOverridden',
    ]);
    expect(Object.keys(all[2].event.payload).sort()).toEqual(['closedAt', 'folio']); // the reason stays in intake
    const [audit] = await stack.query<{ actor_role: string; details: any }>(
      `SELECT actor_role, details FROM intake.audit_log WHERE alert_id = $1 AND action = 'alert.closed'`,
      [id],
    );
    expect(audit).toMatchObject({ actor_role: 'admin', details: { override: true, reason: reason.reason } });
  });

  it('discards a draft, which was never published', async () => {
    const id = (await draft()).body.id;
    const res = await stack.http('intake', 'POST', `/api/v1/alerts/${id}/discard`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('discarded');
    expect(topic.of(id)).toHaveLength(0);
  });

  it('refuses every illegal transition with 409 INVALID_TRANSITION and changes nothing', async () => {
    const CLOSE = { reason: 'Cierre manual de prueba con motivo.' };
    const d = (await draft()).body.id;
    const a = (await active()).body.id;
    const deact = (await active()).body.id;
    await stack.http('intake', 'POST', `/api/v1/alerts/${deact}/deactivate`, { outcome: 'cancelada' });
    const closed = (await active()).body.id;
    await stack.http('intake', 'POST', `/api/v1/alerts/${closed}/deactivate`, {
      outcome: 'localizada_sin_vida',
    });
    await stack.http('intake', 'POST', `/api/v1/alerts/${closed}/close`, CLOSE, admin());
    const discarded = (await draft()).body.id;
    await stack.http('intake', 'POST', `/api/v1/alerts/${discarded}/discard`);
    await topic.waitFor(closed, 3);

    const deactivate = { outcome: 'cancelada' };
    const cases: [string, string, string, unknown][] = [
      ['draft', d, 'deactivate', deactivate],
      ['draft', d, 'close', CLOSE],
      ['active', a, 'activate', undefined],
      ['active', a, 'discard', undefined],
      ['active', a, 'close', CLOSE],
      ['deactivated', deact, 'activate', undefined],
      ['deactivated', deact, 'discard', undefined],
      ['deactivated', deact, 'deactivate', deactivate],
      ['deactivated', deact, 'PATCH', { age: 30 }],
      ['closed', closed, 'activate', undefined],
      ['closed', closed, 'deactivate', deactivate],
      ['closed', closed, 'discard', undefined],
      ['closed', closed, 'close', CLOSE],
      ['closed', closed, 'PATCH', { age: 30 }],
      ['discarded', discarded, 'activate', undefined],
      ['discarded', discarded, 'discard', undefined],
      ['discarded', discarded, 'deactivate', deactivate],
      ['discarded', discarded, 'PATCH', { age: 30 }],
    ];
    const ids = [d, a, deact, closed, discarded];
    const before = await Promise.all(ids.map(row));
    const eventsBefore = topic.events.length;
    for (const [state, id, action, body] of cases) {
      const res =
        action === 'PATCH'
          ? await stack.http('intake', 'PATCH', `/api/v1/alerts/${id}`, body)
          : await stack.http('intake', 'POST', `/api/v1/alerts/${id}/${action}`, body, admin());
      expect({ state, action, status: res.status, code: res.body.code }).toEqual({
        state,
        action,
        status: 409,
        code: 'INVALID_TRANSITION',
      });
    }
    expect(await Promise.all(ids.map(row))).toEqual(before);
    await new Promise((r) => setTimeout(r, 500));
    expect(topic.events.length).toBe(eventsBefore);
  });

  it('lets exactly one of two concurrent deactivations win, with one event', async () => {
    const id = (await active()).body.id;
    const [r1, r2] = await Promise.all([
      stack.http('intake', 'POST', `/api/v1/alerts/${id}/deactivate`, { outcome: 'localizada_con_vida' }),
      stack.http('intake', 'POST', `/api/v1/alerts/${id}/deactivate`, { outcome: 'cancelada' }, admin()),
    ]);
    expect([r1.status, r2.status].sort()).toEqual([200, 409]);
    const events = await topic.waitFor(id, 2, undefined, 1_000);
    expect(events.filter((e) => e.event.type === 'AlertDeactivated')).toHaveLength(1);
    const winner = r1.status === 200 ? r1 : r2;
    expect((await stack.query(`SELECT outcome FROM intake.alerts WHERE id = $1`, [id]))[0].outcome).toBe(
      winner.body.outcome,
    );
  });

  it('creates one alert and one event for a double submission with one Idempotency-Key', async () => {
    const key = `dbl-${stack.id}`;
    const body = minimalFicha({ fullName: 'Lucía Idempotente Ruiz' });
    const results = await Promise.all(
      [1, 2, 3].map(() => stack.http('intake', 'POST', '/api/v1/alerts', body, { 'idempotency-key': key })),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(2);
    const rows = await stack.query(`SELECT id FROM intake.alerts WHERE ficha->>'fullName' = $1`, [
      'Lucía Idempotente Ruiz',
    ]);
    expect(rows).toHaveLength(1);
    const [id] = [...ids];
    expect(await topic.waitFor(id, 1, undefined, 1_000)).toHaveLength(1);

    const later = await stack.http('intake', 'POST', '/api/v1/alerts', body, { 'idempotency-key': key });
    expect(later.body.id).toBe(id);
    const other = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 33 }), {
      'idempotency-key': key,
    });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('flags a possible duplicate (active alert, same name and age) without merging', async () => {
    const first = await active({ fullName: 'Guadalupe Jiménez Sosa', age: 31 });
    expect(first.body.possibleDuplicates).toEqual([]);
    const second = await active({ fullName: 'guadalupe jimenez  sosa', age: 31 });
    expect(second.body.possibleDuplicates).toEqual([{ id: first.body.id, folio: first.body.folio }]);
    expect(second.body.id).not.toBe(first.body.id);
    const otherAge = await active({ fullName: 'Guadalupe Jiménez Sosa', age: 32 });
    expect(otherAge.body.possibleDuplicates).toEqual([]);
  });

  it('audits every state change and every read of the private part (who, when, IP, what), append-only', async () => {
    const created = await draft({ private: PRIVATE });
    const id = created.body.id;
    await stack.http('intake', 'PATCH', `/api/v1/alerts/${id}`, {
      hair: 'Negro, largo',
      private: { relationship: 'tía' },
    });
    await stack.http('intake', 'POST', `/api/v1/alerts/${id}/activate`);
    await stack.http('intake', 'GET', `/api/v1/alerts/${id}/private`, undefined, admin());
    await stack.http('intake', 'POST', `/api/v1/alerts/${id}/deactivate`, { outcome: 'localizada_con_vida' });

    const audit = await stack.http(
      'intake',
      'GET',
      `/api/v1/audit?alertId=${id}`,
      undefined,
      stack.bearer('comite'),
    );
    expect(audit.status).toBe(200);
    const entries = [...audit.body.items].reverse();
    expect(entries.map((e: any) => e.action)).toEqual([
      'alert.created',
      'alert.updated',
      'alert.activated',
      'alert.private.read',
      'alert.deactivated',
    ]);
    expect(entries[0]).toMatchObject({ actorId: stack.operatorId, actorRole: 'operadora' });
    expect(entries[0].ip).toMatch(/127\.0\.0\.1/);
    expect(entries[1].details).toMatchObject({
      changedFields: ['hair'],
      privateFieldsChanged: ['relationship'],
    });
    expect(entries[3].actorRole).toBe('admin');
    expect(entries[4].details).toMatchObject({
      from: 'active',
      to: 'deactivated',
      outcome: 'localizada_con_vida',
    });
    expect(JSON.stringify(audit.body)).not.toContain('tía');

    await expect(
      stack.query(`UPDATE intake.audit_log SET action = 'x' WHERE alert_id = $1`, [id]),
    ).rejects.toThrow(/append-only/);
    await expect(stack.query(`DELETE FROM intake.audit_log WHERE alert_id = $1`, [id])).rejects.toThrow(
      /append-only/,
    );
    await expect(stack.query(`TRUNCATE intake.audit_log`)).rejects.toThrow(/append-only/);
  });

  it('stores photos without EXIF or GPS in every variant, publishes their URL, and takes them down on deactivation', async () => {
    const created = await active({ photoConsent: true });
    const id = created.body.id;
    const source = await jpegWithGps();
    expect((await sharp(source).metadata()).exif).toBeDefined();

    const up = await uploadPhoto(stack, id, source, { altText: 'Foto reciente de Ana' });
    expect(up.status).toBe(201);
    expect(up.body.variants.map((v: any) => v.name)).toEqual(['full', 'medium', 'thumb']);
    expect(up.body.alert).toMatchObject({ status: 'active', version: 2 });
    const photoId = up.body.id;
    const files = readdirSync(join(stack.photoDir, photoId));
    expect(files.sort()).toEqual(['full.jpg', 'medium.jpg', 'thumb.jpg']);
    for (const v of up.body.variants) {
      const served = await fetchBytes(v.url);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toBe('image/jpeg');
      expect((await sharp(served.data).metadata()).exif).toBeUndefined();
      expect(served.data.includes(Buffer.from('CamaraDePrueba'))).toBe(false);
    }
    const full = await sharp(join(stack.photoDir, photoId, 'full.jpg')).metadata();
    expect(Math.max(full.width!, full.height!)).toBeLessThanOrEqual(2048);
    const thumb = await sharp(join(stack.photoDir, photoId, 'thumb.jpg')).metadata();
    expect(Math.max(thumb.width!, thumb.height!)).toBe(320);

    let lastId = photoId;
    for (const [format, data] of [
      ['png', await pngWithExif()],
      ['webp', await webpWithExif()],
    ] as const) {
      const res = await uploadPhoto(stack, id, data, {
        filename: `foto.${format}`,
        contentType: `image/${format}`,
      });
      expect({ format, status: res.status }).toEqual({ format, status: 201 });
      lastId = res.body.id;
    }
    // On an active alert a new photo replaces the previous one: not served any more, its files gone.
    expect((await fetchBytes(up.body.variants[0].url)).status).toBe(404);
    expect(readdirSync(stack.photoDir)).toEqual([lastId]);
    for (const dir of readdirSync(stack.photoDir)) {
      for (const file of readdirSync(join(stack.photoDir, dir))) {
        const meta = await sharp(join(stack.photoDir, dir, file)).metadata();
        expect({ file, exif: meta.exif, xmp: meta.xmp, iptc: meta.iptc, format: meta.format }).toEqual({
          file,
          exif: undefined,
          xmp: undefined,
          iptc: undefined,
          format: 'jpeg',
        });
      }
    }

    const events = await topic.waitFor(id, 4);
    expect(events[1].event.type).toBe('AlertUpdated');
    expect(events[1].event.payload.changedFields).toEqual(
      expect.arrayContaining(['photoUrl', 'photoAltText']),
    );
    expect(events[1].event.payload.ficha.photoUrl).toBe(up.body.variants[0].url);
    expect(events[1].event.payload.ficha.photoAltText).toBe('Foto reciente de Ana');

    const current = await stack.http('intake', 'GET', `/api/v1/alerts/${id}`);
    const lastUrl: string = current.body.ficha.photoUrl;
    await stack.http('intake', 'POST', `/api/v1/alerts/${id}/deactivate`, { outcome: 'localizada_con_vida' });
    for (const url of [up.body.variants[0].url, up.body.variants[2].url, lastUrl]) {
      expect((await fetchBytes(url)).status).toBe(404);
    }
    expect(existsSync(join(stack.photoDir, photoId))).toBe(false);
    expect(readdirSync(stack.photoDir)).toEqual([]);
    const rows = await stack.query(`SELECT status FROM intake.photos WHERE alert_id = $1`, [id]);
    expect(rows.map((r) => r.status)).toEqual(['withdrawn', 'withdrawn', 'withdrawn']);
  });

  it('withdraws one photo on request and with the family’s consent withdrawn', async () => {
    const id = (await draft({ photoConsent: true })).body.id;
    const a = await uploadPhoto(stack, id, await jpegWithGps(400, 300));
    const b = await uploadPhoto(stack, id, await jpegWithGps(300, 400));
    const del = await stack.http('intake', 'DELETE', `/api/v1/alerts/${id}/photos/${b.body.id}`);
    expect(del.status).toBe(200);
    expect(del.body.alert.ficha.photoUrl).toBe(a.body.variants[0].url);
    expect((await fetchBytes(b.body.variants[0].url)).status).toBe(404);
    const noConsent = await stack.http('intake', 'PATCH', `/api/v1/alerts/${id}`, { photoConsent: false });
    expect(noConsent.body.ficha.photoUrl).toBeNull();
    expect((await fetchBytes(a.body.variants[0].url)).status).toBe(404);
    expect(existsSync(join(stack.photoDir, a.body.id))).toBe(false);
    const refused = await uploadPhoto(stack, id, await jpegWithGps(400, 300));
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('PHOTO_CONSENT_REQUIRED');
  });
});
