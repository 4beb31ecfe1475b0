/**
 * The console's only way to the APIs: same origin (the gateway), bearer access token in memory, the
 * refresh token in this tab's sessionStorage (a reload keeps the session, closing the tab ends it).
 * A 401 refreshes once (single flight: refresh tokens are single-use) and retries.
 */
export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
  role: 'operadora' | 'area' | 'comite' | 'admin';
  areaId: string | null;
}

export interface FieldError {
  path: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
  }
}

const REFRESH_KEY = 'alerta-rosa.refresh';
const USER_KEY = 'alerta-rosa.user';

let accessToken: string | null = null;
let accessExpiresAt = 0;
let refreshing: Promise<boolean> | null = null;
const listeners = new Set<(user: SessionUser | null) => void>();

export function storedUser(): SessionUser | null {
  try {
    const raw = sessionStorage.getItem(USER_KEY);
    return raw && sessionStorage.getItem(REFRESH_KEY) ? (JSON.parse(raw) as SessionUser) : null;
  } catch {
    return null;
  }
}

export function onSessionChange(fn: (user: SessionUser | null) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

interface SessionAnswer {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  user?: SessionUser;
}

function keep(s: SessionAnswer): void {
  accessToken = s.accessToken;
  accessExpiresAt = Date.now() + s.expiresIn * 1000;
  sessionStorage.setItem(REFRESH_KEY, s.refreshToken);
  if (s.user) sessionStorage.setItem(USER_KEY, JSON.stringify(s.user));
}

export function clearSession(): void {
  accessToken = null;
  accessExpiresAt = 0;
  sessionStorage.removeItem(REFRESH_KEY);
  sessionStorage.removeItem(USER_KEY);
  for (const l of listeners) l(null);
}

async function errorOf(res: Response): Promise<ApiError> {
  let body: { code?: string; message?: string; fields?: FieldError[] } = {};
  try {
    body = await res.json();
  } catch {
    // not JSON
  }
  return new ApiError(
    res.status,
    body.code ?? `HTTP_${res.status}`,
    body.message ?? `El servidor respondió ${res.status}.`,
    body.fields ?? [],
  );
}

export async function login(username: string, password: string): Promise<SessionUser> {
  const res = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw await errorOf(res);
  const s = (await res.json()) as SessionAnswer & { user: SessionUser };
  keep(s);
  for (const l of listeners) l(s.user);
  return s.user;
}

declare global {
  interface Window {
    /** Set by /session-boot.js: the refresh it started before this bundle ran (public/session-boot.js). */
    __alertaRosaEarlyRefresh?: { token: string; rotatedTo: string | null; response: Promise<Response> };
  }
}

/**
 * The early refresh's answer, taken once, if it was made with the token stored (or is the one that
 * rotated it: the boot script stores the new token as soon as it arrives).
 */
async function takeEarlyRefresh(token: string): Promise<Response | null> {
  const early = typeof window === 'undefined' ? undefined : window.__alertaRosaEarlyRefresh;
  if (!early) return null;
  delete window.__alertaRosaEarlyRefresh;
  if (early.token !== token && early.rotatedTo !== token) return null;
  return early.response.catch(() => null);
}

/** Rotates the refresh token; false when the session is over (expired, revoked, reused). */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    const token = sessionStorage.getItem(REFRESH_KEY);
    if (!token) return false;
    try {
      const res =
        (await takeEarlyRefresh(token)) ??
        (await fetch('/api/v1/auth/refresh', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refreshToken: token }),
        }));
      if (res.status === 401 || res.status === 400) {
        clearSession();
        return false;
      }
      if (!res.ok) return false;
      keep((await res.json()) as SessionAnswer);
      return true;
    } catch {
      return false;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** A valid access token (refreshed when it is about to expire), or null when signed out. */
export async function currentToken(): Promise<string | null> {
  if (!accessToken || accessExpiresAt - Date.now() < 30_000) {
    if (!(await refreshSession())) return null;
  }
  return accessToken;
}

export async function logout(): Promise<void> {
  const token = sessionStorage.getItem(REFRESH_KEY);
  const bearer = await currentToken().catch(() => null);
  if (bearer) {
    await fetch('/api/v1/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify(token ? { refreshToken: token } : {}),
    }).catch(() => undefined);
  }
  clearSession();
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A raw authenticated request (ETag, blobs). */
export async function request(
  path: string,
  options: RequestOptions = {},
  retried = false,
): Promise<Response> {
  const token = await currentToken();
  if (!token) {
    clearSession();
    throw new ApiError(401, 'UNAUTHENTICATED', 'La sesión terminó; vuelva a iniciar sesión.');
  }
  const isForm = typeof FormData !== 'undefined' && options.body instanceof FormData;
  const res = await fetch(path, {
    method: options.method ?? 'GET',
    headers: {
      accept: 'application/json',
      ...(options.body !== undefined && !isForm ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
      authorization: `Bearer ${token}`,
    },
    body:
      options.body === undefined
        ? undefined
        : isForm
          ? (options.body as FormData)
          : JSON.stringify(options.body),
  });
  if (res.status === 401 && !retried) {
    accessToken = null;
    if (await refreshSession()) return request(path, options, true);
    clearSession();
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await request(path, options);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** GET that answers null for a 404 (an endpoint or a resource that is not there yet). */
export async function apiOptional<T>(path: string): Promise<T | null> {
  try {
    return await api<T>(path);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 501)) return null;
    throw err;
  }
}

/** Downloads an authenticated file (CSV, PDF): fetch with the token, then save the blob. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await request(path, { headers: { accept: '*/*' } });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
