import { TestStack, minimalFicha } from '../support/stack';

/** Bad input to the activation endpoint: a clear 4xx with a stable code, and nothing written. */
describe('POST /api/v1/alerts refuses bad input and writes nothing', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.create();
    await stack.start('intake');
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  async function counts() {
    const [alerts] = await stack.query<{ n: string }>(`SELECT count(*) AS n FROM intake.alerts`);
    const [outbox] = await stack.query<{ n: string }>(`SELECT count(*) AS n FROM intake.outbox`);
    return { alerts: Number(alerts.n), outbox: Number(outbox.n) };
  }

  const cases: {
    name: string;
    body: unknown;
    status: number;
    code: string;
    field?: string;
    headers?: Record<string, string>;
  }[] = [
    { name: 'malformed JSON', body: '{"fullName": "Ana", ', status: 400, code: 'MALFORMED_JSON' },
    { name: 'a JSON array', body: [], status: 400, code: 'VALIDATION_FAILED', field: '' },
    {
      name: 'missing fullName',
      body: { ...minimalFicha(), fullName: undefined },
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'fullName',
    },
    {
      name: 'age as a string',
      body: minimalFicha({ age: '17' }),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'age',
    },
    {
      name: 'negative age',
      body: minimalFicha({ age: -1 }),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'age',
    },
    {
      name: 'fractional age',
      body: minimalFicha({ age: 17.5 }),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'age',
    },
    {
      name: 'an unknown field',
      body: minimalFicha({ isAdmin: true }),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'isAdmin',
    },
    {
      name: 'a municipality outside Oaxaca',
      body: minimalFicha({ municipalityCode: '09001' }),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'municipalityCode',
    },
    {
      name: 'an unknown Oaxaca code',
      body: minimalFicha({ municipalityCode: '20999' }),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'municipalityCode',
    },
    {
      name: 'a date in the future',
      body: minimalFicha({ lastSeenAt: new Date(Date.now() + 86_400_000).toISOString() }),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'lastSeenAt',
    },
    {
      name: 'a date that is not a date',
      body: minimalFicha({ reportedAt: 'ayer' }),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'reportedAt',
    },
    {
      name: 'markup in the name',
      body: minimalFicha({ fullName: '<script>alert(1)</script>' }),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'fullName',
    },
    {
      name: 'an overlong name',
      body: minimalFicha({ fullName: 'A'.repeat(201) }),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'fullName',
    },
    {
      name: 'a blank name',
      body: minimalFicha({ fullName: '   ' }),
      status: 400,
      code: 'VALIDATION_FAILED',
      field: 'fullName',
    },
    {
      name: 'a 5 MB body',
      body: JSON.stringify({ ...minimalFicha(), description: 'x'.repeat(5 * 1024 * 1024) }),
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    },
    {
      name: 'a form instead of JSON',
      body: 'fullName=Ana',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    },
  ];

  it.each(cases)('answers $status $code to $name', async ({ body, status, code, field, headers }) => {
    const before = await counts();
    const res = await stack.http('intake', 'POST', '/api/v1/alerts', body, headers);
    expect(res.status).toBe(status);
    expect(res.body.code).toBe(code);
    expect(typeof res.body.message).toBe('string');
    if (field !== undefined) expect(res.body.fields.map((f: { path: string }) => f.path)).toContain(field);
    expect(await counts()).toEqual(before);
  });

  it('keeps SQL fragments in free text as plain text (stored verbatim, nothing else touched)', async () => {
    const text = "Vestía sudadera'); DROP TABLE intake.alerts; --";
    const res = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ description: text }));
    expect(res.status).toBe(201);
    const stored = await stack.http('intake', 'GET', `/api/v1/alerts/${res.body.id}`);
    expect(stored.body.ficha.description).toBe(text);
    expect((await counts()).alerts).toBe(1);
  });

  it('refuses illegal transitions with 409 and changes nothing', async () => {
    const created = await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha({ age: 40 }));
    const off = await stack.http('intake', 'POST', `/api/v1/alerts/${created.body.id}/deactivate`, {
      outcome: 'localizada_con_vida',
    });
    expect(off.status).toBe(200);
    const before = await counts();
    const again = await stack.http('intake', 'POST', `/api/v1/alerts/${created.body.id}/deactivate`, {
      outcome: 'cancelada',
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('INVALID_TRANSITION');
    const update = await stack.http('intake', 'PATCH', `/api/v1/alerts/${created.body.id}`, { age: 41 });
    expect(update.status).toBe(409);
    expect(await counts()).toEqual(before);
    const stored = await stack.http('intake', 'GET', `/api/v1/alerts/${created.body.id}`);
    expect(stored.body).toMatchObject({ status: 'deactivated', outcome: 'localizada_con_vida', version: 2 });
  });

  it('answers 404 with a stable code for an unknown alert and 400 for a malformed id', async () => {
    const missing = await stack.http('intake', 'GET', '/api/v1/alerts/01930000-0000-7000-8000-000000000000');
    expect(missing).toMatchObject({ status: 404, body: { code: 'ALERT_NOT_FOUND' } });
    const bad = await stack.http('intake', 'GET', '/api/v1/alerts/1%27%20OR%201=1');
    expect(bad).toMatchObject({ status: 400, body: { code: 'INVALID_ID' } });
  });
});
