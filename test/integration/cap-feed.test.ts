import { readFileSync } from 'fs';
import { join } from 'path';
import { uploadPhoto } from '../support/intake';
import { smallJpeg } from '../support/images';
import { scrape } from '../support/metrics';
import { distinctivePrivatePart, leakForms } from '../support/private-ficha';
import { TestStack, minimalFicha, waitFor } from '../support/stack';
import { parseXml, validateAtom, validateCap } from '../support/xml-validation';

const CAP_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[-+]\d{2}:\d{2}$/;
const PRIVATE = distinctivePrivatePart('CAPX');

interface Fetched {
  status: number;
  body: string;
  headers: Headers;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Fetched> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** The seat of a municipality as config/data/oaxaca-municipios.csv gives it. */
function seat(code: string): { lat: string; lng: string } {
  const line = readFileSync(join(__dirname, '../../config/data/oaxaca-municipios.csv'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${code},`))!;
  const [lat, lng] = line.split(',').slice(-2);
  return { lat: Number(lat).toFixed(5), lng: Number(lng).toFixed(5) };
}

describe('CAP 1.2 messages and the Atom feed', () => {
  let stack: TestStack;
  let alertId: string;
  let folio: string;
  /** Every CAP document fetched in this file, for the leak check. */
  const documents: string[] = [];

  const feedUrl = () => `${stack.url('tracker')}/cap/alerts.atom`;
  const feed = async () => {
    const res = await get(feedUrl());
    expect(res.status).toBe(200);
    documents.push(res.body);
    return { ...res, feed: parseXml(res.body).feed };
  };
  const entriesOf = (f: any): any[] => f.entry ?? [];
  const entryFor = (f: any, fol: string) => entriesOf(f).find((e) => String(e.title).includes(fol));
  const fetchMessage = async (url: string) => {
    const res = await get(url);
    expect({ url, status: res.status }).toEqual({ url, status: 200 });
    documents.push(res.body);
    return { xml: res.body, alert: parseXml(res.body).alert, headers: res.headers };
  };

  beforeAll(async () => {
    stack = await TestStack.create({ env: { CAP_SCHEDULER_INTERVAL_SECONDS: '1' } });
    await stack.startAll(['intake', 'tracker']);
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  it('an alert’s life gives Alert, Update, Update, Cancel: each valid against the OASIS schema, each referencing every earlier one', async () => {
    const draft = await stack.http('intake', 'POST', '/api/v1/alerts', {
      ...minimalFicha({ activate: false, photoConsent: true, clothing: 'Sudadera gris', heightCm: 158 }),
      private: PRIVATE,
    });
    expect(draft.status).toBe(201);
    alertId = draft.body.id;
    expect((await uploadPhoto(stack, alertId, await smallJpeg())).status).toBe(201);
    const activated = await stack.http('intake', 'POST', `/api/v1/alerts/${alertId}/activate`);
    expect(activated.status).toBe(200);
    folio = activated.body.folio;
    const photoUrl: string = activated.body.ficha.photoUrl;
    expect(photoUrl).toMatch(/^http/);

    // Active: the feed lists it, linking to its Alert message.
    const first = await waitFor(async () => entryFor((await feed()).feed, folio), { what: 'feed entry' });
    expect(first.category[0]['@_term']).toBe('Alert');

    for (const patch of [
      { clothing: 'Sudadera gris y tenis blancos' },
      { description: 'Lleva mochila morada' },
    ]) {
      expect((await stack.http('intake', 'PATCH', `/api/v1/alerts/${alertId}`, patch)).status).toBe(200);
    }
    const deactivated = await stack.http('intake', 'POST', `/api/v1/alerts/${alertId}/deactivate`, {
      outcome: 'localizada_con_vida',
    });
    expect(deactivated.status).toBe(200);

    const cancelEntry = await waitFor(
      async () => {
        const e = entryFor((await feed()).feed, folio);
        return e?.category[0]['@_term'] === 'Cancel' ? e : undefined;
      },
      { what: 'Cancel in the feed' },
    );
    const cancel = await fetchMessage(cancelEntry.link[0]['@_href']);
    // Follow the references back to every earlier message of the alert.
    const refs = String(cancel.alert.references)
      .split(' ')
      .map((r) => r.split(','));
    expect(refs).toHaveLength(3);
    const earlier = [];
    for (const [, identifier] of refs) {
      earlier.push(await fetchMessage(`${stack.url('tracker')}/cap/messages/${identifier}.xml`));
    }
    const chain = [...earlier, cancel];
    expect(chain.map((m) => m.alert.msgType)).toEqual(['Alert', 'Update', 'Update', 'Cancel']);

    const { lat, lng } = seat('20067');
    for (const [i, m] of chain.entries()) {
      const validation = await validateCap(m.xml, `${m.alert.identifier}.xml`);
      expect({ message: m.alert.identifier, errors: validation.errors }).toEqual({
        message: m.alert.identifier,
        errors: [],
      });
      expect(m.headers.get('content-type')).toMatch(/^application\/cap\+xml/);
      expect(m.alert.sent).toMatch(CAP_DATETIME);
      expect(m.alert.sent.endsWith('-06:00')).toBe(true); // Mexico City, never Z or fractions
      expect(m.alert.incidents).toBe(folio);
      // Message i references exactly messages 0..i-1, as sender,identifier,sent.
      const expected = chain
        .slice(0, i)
        .map((p) => `${p.alert.sender},${p.alert.identifier},${p.alert.sent}`)
        .join(' ');
      expect(m.alert.references ?? '').toBe(expected);
      const info = m.alert.info;
      expect(info).toHaveLength(1); // one info per language: es-MX only
      expect(info[0]).toMatchObject({ language: 'es-MX', category: ['Rescue'], event: 'Alerta Rosa' });
      expect(info[0].expires).toMatch(CAP_DATETIME);
      expect(new Date(info[0].expires).getTime()).toBeGreaterThan(new Date(m.alert.sent).getTime());
      expect(info[0].description).toBeTruthy();
      expect(info[0].web).toMatch(/^http/);
      expect(info[0].contact).toContain('911');
      expect(info[0].area[0]).toMatchObject({
        areaDesc: 'Oaxaca de Juárez, Oaxaca',
        circle: `${lat},${lng} 30`,
        geocode: { valueName: 'INEGI', value: '20067' },
      });
    }
    for (const m of chain.slice(0, 3)) {
      expect(m.alert.info[0]).toMatchObject({
        urgency: 'Immediate',
        severity: 'Severe',
        certainty: 'Likely',
      });
      expect(m.alert.info[0].instruction).toContain('911 (emergencias)');
      expect(m.alert.info[0].instruction).toContain('089 (denuncia anónima)');
      expect(m.alert.info[0].description).toContain('Ana Martínez López');
      expect(m.alert.info[0].resource).toEqual([
        expect.objectContaining({ mimeType: 'image/jpeg', uri: photoUrl }),
      ]);
    }
    expect(chain[2].alert.info[0].description).toContain('Lleva mochila morada');
    // The Cancel references its Alert, carries no photo and does not name her.
    expect(refs[0][1]).toBe(chain[0].alert.identifier);
    expect(cancel.alert.info[0].resource).toBeUndefined();
    expect(cancel.alert.info[0]).toMatchObject({ urgency: 'Past', responseType: 'AllClear' });
    expect(cancel.xml).not.toContain('Ana Martínez');
    expect(cancel.xml).not.toContain('/public/photos/');
  });

  it('the feed is valid Atom, answers 304 to a current ETag or date, changes with a new alert, and drops a cancelled alert after 24 h', async () => {
    const current = await feed();
    const validation = await validateAtom(current.body);
    expect(validation.errors).toEqual([]);
    expect(current.headers.get('content-type')).toMatch(/^application\/atom\+xml/);
    const etag = current.headers.get('etag')!;
    const lastModified = current.headers.get('last-modified')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(new Date(lastModified).getTime()).toBeGreaterThan(0);
    const entry = entryFor(current.feed, folio);
    expect(entry.id).toBe(entry.link[0]['@_href']);
    expect(entry.link[0]).toMatchObject({ '@_rel': 'alternate', '@_type': 'application/cap+xml' });

    const byEtag = await get(feedUrl(), { 'if-none-match': etag });
    expect(byEtag.status).toBe(304);
    expect(byEtag.body).toBe('');
    expect((await get(feedUrl(), { 'if-modified-since': lastModified })).status).toBe(304);
    expect((await get(feedUrl(), { 'if-none-match': '"something-else"' })).status).toBe(200);

    const other = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 33 }));
    expect(other.status).toBe(201);
    const changed = await waitFor(
      async () => {
        const f = await feed();
        return entryFor(f.feed, other.body.folio) ? f : undefined;
      },
      { what: 'second alert in the feed' },
    );
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect((await get(feedUrl(), { 'if-none-match': etag })).status).toBe(200);
    expect((await validateAtom(changed.body)).errors).toEqual([]);
    expect(entriesOf(changed.feed).map((e) => e.title)).toHaveLength(2);

    // 24 hours after the Cancel (its time moved back so that they are up now): the cancelled alert leaves
    // the feed, the feed's Last-Modified moves to the moment it left, and the messages that named her are
    // withdrawn. (A new second first, so that the departure is later than `before` at HTTP's resolution.)
    const before = changed.headers.get('last-modified')!;
    await waitFor(async () => Date.now() >= Date.parse(before) + 2_000, { what: 'the next second' });
    await stack.query(
      `UPDATE tracker.cap_alerts SET cancelled_at = clock_timestamp() - interval '24 hours' WHERE alert_id = $1`,
      [alertId],
    );
    const after = await waitFor(
      async () => {
        const f = await feed();
        return entryFor(f.feed, folio) ? undefined : f;
      },
      { what: 'cancelled alert out of the feed' },
    );
    expect(entryFor(after.feed, other.body.folio)).toBeDefined();
    expect((await validateAtom(after.body)).errors).toEqual([]);
    expect((await get(feedUrl(), { 'if-modified-since': before })).status).toBe(200);

    const rows = await stack.query<{ identifier: string; msg_type: string }>(
      `SELECT identifier, msg_type FROM tracker.cap_messages WHERE alert_id = $1 ORDER BY seq`,
      [alertId],
    );
    await waitFor(
      async () => {
        const res = await get(`${stack.url('tracker')}/cap/messages/${rows[0].identifier}.xml`);
        return res.status === 410;
      },
      { what: 'withdrawn Alert message' },
    );
    for (const r of rows) {
      const res = await get(`${stack.url('tracker')}/cap/messages/${r.identifier}.xml`);
      expect({ msgType: r.msg_type, status: res.status }).toEqual({
        msgType: r.msg_type,
        status: r.msg_type === 'Cancel' ? 200 : 410,
      });
      if (res.status === 410) expect(JSON.parse(res.body).code).toBe('CAP_MESSAGE_WITHDRAWN');
    }
    expect((await get(`${stack.url('tracker')}/cap/messages/AR-0000-0000-m1.xml`)).status).toBe(404);
  });

  it('no private field of the ficha appears in any CAP message, the Atom feed or /metrics', async () => {
    // The private part was stored (intake has it) …
    const stored = await stack.http(
      'intake',
      'GET',
      `/api/v1/alerts/${alertId}/private`,
      undefined,
      stack.bearer('admin'),
    );
    expect(stored.body.private.investigationFolder).toBe(PRIVATE.investigationFolder);
    // … and appears nowhere public.
    const rows = await stack.query<{ xml: string | null; headline: string; summary: string }>(
      `SELECT xml, headline, summary FROM tracker.cap_messages`,
    );
    const metrics = await Promise.all([scrape(stack.url('intake')), scrape(stack.url('tracker'))]);
    const outputs = [
      ...documents,
      (await get(feedUrl())).body,
      ...rows.map((r) => `${r.xml ?? ''}${r.headline}${r.summary}`),
      ...metrics.map((m) => m.text),
    ];
    expect(documents.length).toBeGreaterThanOrEqual(5);
    const forms = leakForms(PRIVATE);
    const leaks = forms.filter((form) => outputs.some((o) => o.toLowerCase().includes(form.toLowerCase())));
    expect(leaks).toEqual([]);
  });

  it('renews the rolling expiry: an Update is issued before the latest message expires, referencing it', async () => {
    await stack.service('tracker').stop();
    await stack.start('tracker', {
      CAP_EXPIRES_SECONDS: '60',
      CAP_RENEW_BEFORE_SECONDS: '50',
      CAP_SCHEDULER_INTERVAL_SECONDS: '1',
    });
    const created = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 19 }));
    expect(created.status).toBe(201);
    const renewal = await waitFor(
      async () => {
        const [row] = await stack.query<{ identifier: string }>(
          `SELECT identifier FROM tracker.cap_messages WHERE alert_id = $1 AND reason = 'renewal' ORDER BY seq LIMIT 1`,
          [created.body.id],
        );
        return row;
      },
      { timeoutMs: 40_000, what: 'renewal Update' },
    );
    const base = `${stack.url('tracker')}/cap/messages`;
    const renewed = await fetchMessage(`${base}/${renewal.identifier}.xml`);
    const [, previousId] = String(renewed.alert.references).split(' ').pop()!.split(',');
    const previous = await fetchMessage(`${base}/${previousId}.xml`);
    expect((await validateCap(renewed.xml)).errors).toEqual([]);
    expect(renewed.alert.msgType).toBe('Update');
    expect(renewed.alert.note).toContain('Renovación');
    expect(previous.alert.msgType).toBe('Alert');
    // Issued before the previous message ran out, and it runs further.
    const prevExpires = new Date(previous.alert.info[0].expires).getTime();
    expect(new Date(renewed.alert.sent).getTime()).toBeLessThan(prevExpires);
    expect(new Date(renewed.alert.info[0].expires).getTime()).toBeGreaterThan(prevExpires);
    // Same ficha, same public content.
    expect(renewed.alert.info[0].description).toBe(previous.alert.info[0].description);
    const { samples } = await scrape(stack.url('tracker'));
    expect(samples.some((s) => s.name === 'alerta_rosa_cap_messages' && s.labels.reason === 'renewal')).toBe(
      true,
    );
  });
});
