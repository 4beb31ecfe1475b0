import { AddressInfo, Socket } from 'net';
import { Server, createServer } from 'http';
import { HttpClient, HttpRequestError } from './http-client';
import { requestFailure } from './http-failure';
import { AmbiguousError, TransientError } from './channel.errors';

/** The adapters' HTTP client against a local node:http server (what a platform's front end does). */
describe('HttpClient', () => {
  let server: Server;
  let base: string;
  const sockets = new Set<Socket>();
  /** What the server does with the next requests (default: answer 200 with the request echoed). */
  let behaviour: 'echo' | 'hang' | 'reset-reused' = 'echo';
  let requestsSeen = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requestsSeen++;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (behaviour === 'hang') return;
        const socket = req.socket as Socket & { served?: number };
        socket.served = (socket.served ?? 0) + 1;
        // The server closes a kept-alive socket just as a second request arrives on it.
        if (behaviour === 'reset-reused' && socket.served > 1) {
          socket.resetAndDestroy();
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            method: req.method,
            body: Buffer.concat(chunks).toString('utf8'),
            type: req.headers['content-type'] ?? null,
          }),
        );
      });
    });
    server.keepAliveTimeout = 65_000;
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    behaviour = 'echo';
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('sends the body, reads the whole answer and keeps the connection for the next request', async () => {
    const client = new HttpClient();
    const a = await client.request(`${base}/x`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hola',
      timeoutMs: 2_000,
    });
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body.toString())).toEqual({ method: 'POST', body: 'hola', type: 'text/plain' });
    const before = sockets.size;
    await client.request(`${base}/y`, { method: 'GET', timeoutMs: 2_000 });
    expect(sockets.size).toBe(before); // same socket
  });

  it('a refused connection never reached the platform: transient even for a create', async () => {
    const port = (server.address() as AddressInfo).port + 1;
    const err = await new HttpClient()
      .request(`http://127.0.0.1:${port}/`, { method: 'POST', body: 'x', timeoutMs: 2_000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpRequestError);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', neverSent: true });
    expect(requestFailure('facebook', err, true)).toBeInstanceOf(TransientError);
  });

  it('a request the platform took but did not answer in time is ambiguous for a create', async () => {
    behaviour = 'hang';
    const err = await new HttpClient()
      .request(`${base}/slow`, { method: 'POST', body: 'x', timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ETIMEDOUT', neverSent: false });
    expect(requestFailure('facebook', err, true)).toBeInstanceOf(AmbiguousError);
    expect(requestFailure('facebook', err, false)).toBeInstanceOf(TransientError);
  });

  it('a reused socket reset by the server: an idempotent request goes again on a new one, a POST is ambiguous', async () => {
    const client = new HttpClient();
    await client.request(`${base}/warm`, { method: 'GET', timeoutMs: 2_000 });
    behaviour = 'reset-reused';
    const seen = requestsSeen;
    const again = await client.request(`${base}/delete`, { method: 'DELETE', timeoutMs: 2_000 });
    expect(again.status).toBe(200);
    expect(requestsSeen - seen).toBe(2); // the reset one and the one sent again

    await client.request(`${base}/warm`, { method: 'GET', timeoutMs: 2_000 }); // a fresh socket, served once
    const err = await client
      .request(`${base}/post`, { method: 'POST', body: 'x', timeoutMs: 2_000 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ECONNRESET', neverSent: false });
    expect(requestFailure('facebook', err, true)).toBeInstanceOf(AmbiguousError);
  });
});
