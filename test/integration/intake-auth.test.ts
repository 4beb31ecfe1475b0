import { AccessTokenVerifier } from '@alerta-rosa/auth';
import { execFile } from 'child_process';
import { join } from 'path';
import { smallJpeg } from '../support/images';
import { fetchBytes, uploadPhoto } from '../support/intake';
import { TestStack, minimalFicha, sleep } from '../support/stack';

const ROOT = join(__dirname, '../..');
const ADMIN_PASSWORD = 'contraseña-del-admin-2026';
const PASSWORD = 'una-contraseña-muy-larga';
const CONSOLE_ORIGIN = 'https://consola.alerta-rosa.test';

type RoleKey = 'operadora' | 'area' | 'areaOtra' | 'comite' | 'admin' | 'sinToken';
const ROLE_KEYS: RoleKey[] = ['operadora', 'area', 'areaOtra', 'comite', 'admin', 'sinToken'];

describe('intake: users, sessions and who may do what', () => {
  let stack: TestStack;
  const tokens = {} as Record<RoleKey, string>;
  const auth = (role: RoleKey) => ({ authorization: role === 'sinToken' ? '' : `Bearer ${tokens[role]}` });

  // Asynchronous on purpose: a blocked event loop would let the HTTP client reuse sockets the server closed.
  const createAdmin = (args: string[], password: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [
          '-r',
          join(ROOT, 'infra/node/register-paths.js'),
          join(ROOT, 'dist/apps/intake/src/cli/create-admin.cli.js'),
          ...args,
        ],
        {
          env: { PATH: process.env.PATH, DATABASE_URL: stack.databaseUrl, ADMIN_PASSWORD: password },
          encoding: 'utf8',
        },
        (err, stdout, stderr) =>
          resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  const login = (username: string, password: string) =>
    stack.http('intake', 'POST', '/api/v1/auth/login', { username, password }, { authorization: '' });
  const createUser = async (body: Record<string, unknown>) => {
    const res = await stack.http(
      'intake',
      'POST',
      '/api/v1/users',
      { password: PASSWORD, ...body },
      auth('admin'),
    );
    expect({ status: res.status, body: res.status === 201 ? 'ok' : res.body }).toEqual({
      status: 201,
      body: 'ok',
    });
    return res.body;
  };

  beforeAll(async () => {
    stack = await TestStack.create();
    await stack.start('intake', {
      LOGIN_MAX_FAILURES_PER_USER: '3',
      LOGIN_MAX_ATTEMPTS_PER_IP: '1000',
      ACCESS_TOKEN_TTL_SECONDS: '120',
      CORS_ORIGINS: CONSOLE_ORIGIN,
    });
    const cli = await createAdmin(['--username', 'admin', '--name', 'Administración SSP'], ADMIN_PASSWORD);
    expect(cli.status).toBe(0);
    tokens.admin = (await login('admin', ADMIN_PASSWORD)).body.accessToken;
    await createUser({ username: 'operadora1', displayName: 'Operadora de guardia', role: 'operadora' });
    await createUser({ username: 'enlace-c4', displayName: 'Enlace C4', role: 'area', areaId: 'c4' });
    await createUser({
      username: 'vial',
      displayName: 'Enlace Policía Vial',
      role: 'area',
      areaId: 'policia-vial',
    });
    await createUser({ username: 'comite1', displayName: 'Integrante del Comité', role: 'comite' });
    for (const [key, username] of [
      ['operadora', 'operadora1'],
      ['area', 'enlace-c4'],
      ['areaOtra', 'vial'],
      ['comite', 'comite1'],
    ] as const) {
      const res = await login(username, PASSWORD);
      expect(res.status).toBe(200);
      tokens[key] = res.body.accessToken;
    }
  });

  afterAll(async () => {
    await stack?.teardown();
  });

  it('creates the first admin with the CLI, with an argon2id hash, and refuses weak or duplicate ones', async () => {
    const [row] = await stack.query<{ password_hash: string; role: string }>(
      `SELECT password_hash, role FROM intake.users WHERE username = 'admin'`,
    );
    expect(row.role).toBe('admin');
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain(ADMIN_PASSWORD);
    expect((await createAdmin(['--username', 'otro'], 'corta')).status).toBe(2);
    const dup = await createAdmin(['--username', 'ADMIN'], ADMIN_PASSWORD);
    expect(dup.status).toBe(1);
    expect(dup.stderr).toContain('Ya existe un usuario');
  });

  it('logs in with a short-lived access token carrying sub, role and areaId', async () => {
    const res = await login('enlace-c4', PASSWORD);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 120,
      user: { username: 'enlace-c4', role: 'area', areaId: 'c4' },
    });
    const claims = JSON.parse(Buffer.from(res.body.accessToken.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: res.body.user.id, role: 'area', areaId: 'c4' });
    expect(claims.exp - claims.iat).toBe(120);
    const me = await stack.http('intake', 'GET', '/api/v1/auth/me', undefined, {
      authorization: `Bearer ${res.body.accessToken}`,
    });
    expect(me.body).toEqual({ id: res.body.user.id, role: 'area', areaId: 'c4' });
    const wrong = await login('enlace-c4', 'contraseña-equivocada');
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
    const nobody = await login('no-existe', PASSWORD);
    expect(nobody.body.code).toBe('INVALID_CREDENTIALS');
  });

  it('rotates refresh tokens and revokes the whole family when a used one comes back', async () => {
    const first = (await login('comite1', PASSWORD)).body;
    const rotated = await stack.http(
      'intake',
      'POST',
      '/api/v1/auth/refresh',
      { refreshToken: first.refreshToken },
      { authorization: '' },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(first.refreshToken);
    const stored = await stack.query(`SELECT token_hash FROM intake.refresh_tokens`);
    expect(JSON.stringify(stored)).not.toContain(first.refreshToken);

    const replay = await stack.http(
      'intake',
      'POST',
      '/api/v1/auth/refresh',
      { refreshToken: first.refreshToken },
      { authorization: '' },
    );
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('INVALID_REFRESH_TOKEN');
    // The legitimate-looking newer token of the same family is dead too.
    const next = await stack.http(
      'intake',
      'POST',
      '/api/v1/auth/refresh',
      { refreshToken: rotated.body.refreshToken },
      { authorization: '' },
    );
    expect(next.status).toBe(401);
    const audit = await stack.http(
      'intake',
      'GET',
      '/api/v1/audit?action=auth.refresh.reused',
      undefined,
      auth('admin'),
    );
    expect(audit.body.items).toHaveLength(1);
    // Another session of the same user is untouched.
    const other = (await login('comite1', PASSWORD)).body;
    expect(
      (
        await stack.http(
          'intake',
          'POST',
          '/api/v1/auth/refresh',
          { refreshToken: other.refreshToken },
          { authorization: '' },
        )
      ).status,
    ).toBe(200);
  });

  it('ends a session on logout', async () => {
    const session = (await login('operadora1', PASSWORD)).body;
    const out = await stack.http(
      'intake',
      'POST',
      '/api/v1/auth/logout',
      { refreshToken: session.refreshToken },
      {
        authorization: `Bearer ${session.accessToken}`,
      },
    );
    expect(out.status).toBe(204);
    const after = await stack.http(
      'intake',
      'POST',
      '/api/v1/auth/refresh',
      { refreshToken: session.refreshToken },
      { authorization: '' },
    );
    expect(after.status).toBe(401);
  });

  it('rate-limits login: after 3 failures even the right password gets 429', async () => {
    await createUser({ username: 'victima', displayName: 'Usuaria atacada', role: 'operadora' });
    for (let i = 0; i < 3; i++) expect((await login('victima', `mala-${i}-contraseña`)).status).toBe(401);
    const blocked = await login('victima', PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('TOO_MANY_LOGIN_ATTEMPTS');
  });

  it('locks out a deactivated user: no login, no refresh', async () => {
    const user = await createUser({ username: 'baja', displayName: 'Usuaria dada de baja', role: 'comite' });
    const session = (await login('baja', PASSWORD)).body;
    const off = await stack.http(
      'intake',
      'PATCH',
      `/api/v1/users/${user.id}`,
      { active: false },
      auth('admin'),
    );
    expect(off.status).toBe(200);
    expect((await login('baja', PASSWORD)).status).toBe(401);
    expect(
      (
        await stack.http(
          'intake',
          'POST',
          '/api/v1/auth/refresh',
          { refreshToken: session.refreshToken },
          { authorization: '' },
        )
      ).status,
    ).toBe(401);
  });

  it('refuses forged, expired and incomplete tokens', async () => {
    const forged = new AccessTokenVerifier('another-secret-that-is-long-enough-to-sign').sign(
      { sub: 'x', role: 'admin' },
      600,
    );
    const expired = stack.token('admin', { ttlSeconds: 1 });
    await sleep(2_100);
    const noArea = new AccessTokenVerifier('test-only-secret-for-alerta-rosa-access-tokens').sign(
      { sub: 'x', role: 'area' },
      600,
    );
    for (const [what, token] of [
      ['forged', forged],
      ['expired', expired],
      ['area without areaId', noArea],
      ['garbage', 'abc.def.ghi'],
    ]) {
      const res = await stack.http('intake', 'GET', '/api/v1/alerts', undefined, {
        authorization: `Bearer ${token}`,
      });
      expect({ what, status: res.status, code: res.body.code }).toEqual({
        what,
        status: 401,
        code: 'UNAUTHENTICATED',
      });
    }
  });

  it('sends helmet headers and allows CORS only from configured origins', async () => {
    const res = await stack.http('intake', 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('strict-transport-security')).toBeTruthy();
    expect(res.headers.get('x-powered-by')).toBeNull();
    const preflight = (origin: string) =>
      fetch(`${stack.url('intake')}/api/v1/alerts`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,idempotency-key',
        },
      });
    const ok = await preflight(CONSOLE_ORIGIN);
    expect(ok.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('idempotency-key');
    const evil = await preflight('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('publishes the OpenAPI document at /api/docs', async () => {
    const ui = await stack.http('intake', 'GET', '/api/docs', undefined, { authorization: '' });
    expect(ui.status).toBe(200);
    expect(String(ui.body)).toContain('swagger');
    const doc = await stack.http('intake', 'GET', '/api/docs-json', undefined, { authorization: '' });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/alerts',
        '/api/v1/alerts/{id}',
        '/api/v1/alerts/{id}/deactivate',
        '/api/v1/alerts/{id}/photos',
        '/api/v1/auth/login',
        '/api/v1/audit',
        '/api/v1/users',
      ]),
    );
    expect(
      doc.body.paths['/api/v1/alerts'].post.requestBody.content['application/json'].schema.properties
        .fullName,
    ).toBeDefined();
    expect(doc.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('enforces the role matrix on every endpoint, including a token for another area', async () => {
    const asOperator = {} as Record<string, string>; // default stack.http identity (operadora)
    const newAlert = async (o: Record<string, unknown> = {}) =>
      (await stack.http('intake', 'POST', '/api/v1/alerts', minimalFicha(o), asOperator)).body.id as string;
    const newDeactivated = async () => {
      const id = await newAlert();
      await stack.http(
        'intake',
        'POST',
        `/api/v1/alerts/${id}/deactivate`,
        { outcome: 'cancelada' },
        asOperator,
      );
      return id;
    };
    const newPhoto = async () => {
      const id = await newAlert({ photoConsent: true, activate: false });
      const up = await uploadPhoto(stack, id, await smallJpeg());
      return { id, photoId: up.body.id as string, url: up.body.variants[0].url as string };
    };
    let n = 0;
    type Call = (role: RoleKey) => Promise<number>;
    const http =
      (method: string, path: string, body?: unknown): Call =>
      async (role) =>
        (await stack.http('intake', method, path, body, auth(role))).status;
    const shared = await newAlert();
    const sharedDraft = await newAlert({ activate: false });
    const user = await createUser({
      username: 'matriz',
      displayName: 'Usuaria de la matriz',
      role: 'comite',
    });

    const endpoints: Record<string, Call> = {
      'POST /api/v1/alerts': (r) =>
        http('POST', '/api/v1/alerts', minimalFicha({ activate: false, age: 50 }))(r),
      'GET /api/v1/alerts': http('GET', '/api/v1/alerts'),
      'GET /api/v1/alerts/:id (activa)': http('GET', `/api/v1/alerts/${shared}`),
      'GET /api/v1/alerts/:id (borrador)': http('GET', `/api/v1/alerts/${sharedDraft}`),
      'GET /api/v1/alerts/:id/private': http('GET', `/api/v1/alerts/${shared}/private`),
      'PATCH /api/v1/alerts/:id': (r) =>
        http('PATCH', `/api/v1/alerts/${shared}`, { description: `Cambio ${++n}` })(r),
      'POST /api/v1/alerts/:id/activate': async (r) =>
        http('POST', `/api/v1/alerts/${await newAlert({ activate: false })}/activate`)(r),
      'POST /api/v1/alerts/:id/discard': async (r) =>
        http('POST', `/api/v1/alerts/${await newAlert({ activate: false })}/discard`)(r),
      'POST /api/v1/alerts/:id/deactivate': async (r) =>
        http('POST', `/api/v1/alerts/${await newAlert()}/deactivate`, { outcome: 'localizada_con_vida' })(r),
      'POST /api/v1/alerts/:id/close': async (r) =>
        http('POST', `/api/v1/alerts/${await newDeactivated()}/close`, {
          reason: 'Cierre manual de la matriz de roles.',
        })(r),
      'POST /api/v1/alerts/:id/photos': async (r) => {
        const id = await newAlert({ photoConsent: true, activate: false });
        return (await uploadPhoto(stack, id, await smallJpeg(), { headers: auth(r) })).status;
      },
      'DELETE /api/v1/alerts/:id/photos/:photoId': async (r) => {
        const p = await newPhoto();
        return http('DELETE', `/api/v1/alerts/${p.id}/photos/${p.photoId}`)(r);
      },
      'GET /public/photos/:photoId/full.jpg': async () => (await fetchBytes((await newPhoto()).url)).status,
      'GET /api/v1/audit': http('GET', '/api/v1/audit?limit=5'),
      'POST /api/v1/users': (r) =>
        http('POST', '/api/v1/users', {
          username: `u${++n}`,
          displayName: 'Nueva',
          role: 'operadora',
          password: PASSWORD,
        })(r),
      'GET /api/v1/users': http('GET', '/api/v1/users'),
      'PATCH /api/v1/users/:id': http('PATCH', `/api/v1/users/${user.id}`, { displayName: 'Renombrada' }),
      'GET /api/v1/auth/me': http('GET', '/api/v1/auth/me'),
      'POST /api/v1/auth/logout': http('POST', '/api/v1/auth/logout', {}),
      'GET /health': http('GET', '/health'),
      // Public by design: whatever token comes along is ignored.
      'POST /api/v1/auth/login': http('POST', '/api/v1/auth/login', {
        username: 'matriz',
        password: PASSWORD,
      }),
      'POST /api/v1/auth/refresh': async (r) => {
        const session = (await login('matriz', PASSWORD)).body;
        return http('POST', '/api/v1/auth/refresh', { refreshToken: session.refreshToken })(r);
      },
    };

    const row = (ok: number, allowed: RoleKey[], denied = 403, unauthenticated = 401) =>
      Object.fromEntries(
        ROLE_KEYS.map((r) => [r, r === 'sinToken' ? unauthenticated : allowed.includes(r) ? ok : denied]),
      ) as Record<RoleKey, number>;
    const writers: RoleKey[] = ['operadora', 'admin'];
    const everyone: RoleKey[] = ['operadora', 'area', 'areaOtra', 'comite', 'admin'];
    const expected: Record<string, Record<RoleKey, number>> = {
      'POST /api/v1/alerts': row(201, writers),
      'GET /api/v1/alerts': row(200, everyone),
      'GET /api/v1/alerts/:id (activa)': row(200, everyone),
      // Drafts belong to the Unidad de Género: for other roles they do not exist.
      'GET /api/v1/alerts/:id (borrador)': row(200, writers, 404),
      'GET /api/v1/alerts/:id/private': row(200, writers),
      'PATCH /api/v1/alerts/:id': row(200, writers),
      'POST /api/v1/alerts/:id/activate': row(200, writers),
      'POST /api/v1/alerts/:id/discard': row(200, writers),
      'POST /api/v1/alerts/:id/deactivate': row(200, writers),
      'POST /api/v1/alerts/:id/close': row(200, ['admin']),
      'POST /api/v1/alerts/:id/photos': row(201, writers),
      'DELETE /api/v1/alerts/:id/photos/:photoId': row(200, writers),
      'GET /public/photos/:photoId/full.jpg': row(200, everyone, 403, 200),
      'GET /api/v1/audit': row(200, ['admin', 'comite']),
      'POST /api/v1/users': row(201, ['admin']),
      'GET /api/v1/users': row(200, ['admin']),
      'PATCH /api/v1/users/:id': row(200, ['admin']),
      'GET /api/v1/auth/me': row(200, everyone),
      'POST /api/v1/auth/logout': row(204, everyone),
      'GET /health': row(200, everyone, 403, 200),
      'POST /api/v1/auth/login': row(200, everyone, 403, 200),
      'POST /api/v1/auth/refresh': row(200, everyone, 403, 200),
    };

    const actual: Record<string, Record<RoleKey, number>> = {};
    for (const [name, call] of Object.entries(endpoints)) {
      actual[name] = {} as Record<RoleKey, number>;
      for (const role of ROLE_KEYS) actual[name][role] = await call(role);
    }
    expect(actual).toEqual(expected);

    // Denied calls changed nothing: only writers' activations/deactivations produced events.
    const [counts] = await stack.query<{ deactivated: number }>(
      `SELECT count(*)::int AS deactivated FROM intake.alerts WHERE status = 'deactivated' AND outcome = 'localizada_con_vida'`,
    );
    expect(counts.deactivated).toBe(2);
  });
});
