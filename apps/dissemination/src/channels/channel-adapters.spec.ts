import { AddressInfo } from 'net';
import { createFacebookSandbox } from '../../../facebook-sandbox/src/facebook.sandbox';
import { createPartnerSandbox } from '../../../partner-sandbox/src/partner.sandbox';
import { Sandbox } from '../../../sandbox-kit/src/sandbox.server';
import { createXSandbox } from '../../../x-sandbox/src/x.sandbox';
import { FichaCardRenderer } from '../content/ficha-card.renderer';
import { ChannelAccount } from './channel.adapter';
import { AmbiguousError, AuthRevokedError, DuplicateContentError, RateLimitedError } from './channel.errors';
import { FacebookAdapter } from './facebook.adapter';
import { WebhookAdapter } from './webhook.adapter';
import { XAdapter } from './x.adapter';

const creds = {
  'ssp-x': {
    consumerKey: 'ck',
    consumerSecret: 'cs!*()',
    accessToken: 'tok-1',
    accessSecret: 'sec 1',
    userId: '42',
  },
  // Two more accounts of the same app (ck), and one of another app.
  'ssp-x-2': {
    consumerKey: 'ck',
    consumerSecret: 'cs!*()',
    accessToken: 'tok-2',
    accessSecret: 's2',
    userId: '43',
  },
  'ssp-x-3': {
    consumerKey: 'ck',
    consumerSecret: 'cs!*()',
    accessToken: 'tok-3',
    accessSecret: 's3',
    userId: '44',
  },
  'other-app-x': {
    consumerKey: 'ck-2',
    consumerSecret: 'cs2',
    accessToken: 'tok-4',
    accessSecret: 's4',
    userId: '45',
  },
  'ssp-fb': { pageId: '555', pageAccessToken: 'page-token' },
  'partner-a': { url: 'http://placeholder/hooks/partner-a', secret: 'partner-secret-0123456789' },
};

/** Hooks that record what the adapter reports. */
function hooks(ids: string[] = [], calls: string[] = []) {
  return {
    beforeCreate: async () => void calls.push('beforeCreate'),
    onRemoteId: async (remote: { remoteId: string }) => void ids.push(remote.remoteId),
    refused: async () => void calls.push('refused'),
  };
}
const lookup = (marker: string, idempotencyKey = 'k') => ({ marker, idempotencyKey });

async function start(sb: Sandbox): Promise<string> {
  await sb.listen(0);
  const port = ((sb as any).server.address() as AddressInfo).port;
  return `http://127.0.0.1:${port}`;
}

describe('channel adapters against the sandboxes', () => {
  const sandboxes: Sandbox[] = [];
  let card: Buffer;
  beforeAll(async () => {
    card = await new FichaCardRenderer(1000).renderNow({
      folio: 'AR-2026-0001',
      ficha: {
        fullName: 'Ana Martínez López',
        age: 24,
        municipalityCode: '20067',
        municipalityName: 'Oaxaca de Juárez',
        lastSeenAt: new Date().toISOString(),
        lastSeenPlace: 'Centro',
        description: null,
      },
      phones: [{ label: 'Emergencias', number: '911' }],
    });
  });
  afterAll(async () => {
    for (const s of sandboxes) await s.close();
  });

  it('uploads a card once for the X accounts of one app and lets each attach it (additional_owners)', async () => {
    const sb = createXSandbox(creds);
    sandboxes.push(sb);
    const base = await start(sb);
    const x = new XAdapter({ apiBaseUrl: base, uploadBaseUrl: base, timeoutMs: 2000 });
    const acc = (id: keyof typeof creds): ChannelAccount => ({
      id,
      platform: 'x',
      handle: `@${id}`,
      credentials: creds[id],
    });
    const group = [acc('ssp-x'), acc('ssp-x-2'), acc('ssp-x-3'), acc('other-app-x')];
    const image = { data: card, contentType: 'image/jpeg' as const, altText: 'Ficha de Ana' };
    await x.prepareMedia(group[0], image, group);
    const posts = await Promise.all(
      group.map((a) =>
        x.post(
          a,
          {
            text: `Alerta ${a.id} Folio S (v1)`,
            image,
            marker: 'Folio S (v1)',
            idempotencyKey: a.id,
            shareImageWith: group,
          },
          hooks(),
        ),
      ),
    );
    expect(posts).toHaveLength(4);
    // One upload served the app's three accounts; the account of another app uploaded its own.
    expect(sb.stats.mediaUploads).toEqual({ 'ssp-x': 1, 'other-app-x': 1 });
    expect(sb.posts.map((p) => [p.accountId, p.hasImage, p.imageType, p.altText])).toEqual(
      group.map((a) => [a.id, true, 'jpeg', 'Ficha de Ana']),
    );

    // X no longer takes the shared media id (expired): the post is refused outright, so it is sent once
    // more with an upload of its own, and nothing is posted twice.
    await fetch(`${base}/_control/media/expire`, { method: 'POST' });
    const calls: string[] = [];
    await x.post(
      acc('ssp-x-2'),
      {
        text: 'Alerta v2 Folio S (v2)',
        image,
        marker: 'Folio S (v2)',
        idempotencyKey: 'v2',
        shareImageWith: group,
      },
      hooks([], calls),
    );
    expect(sb.stats.mediaUploads).toEqual({ 'ssp-x': 1, 'ssp-x-2': 1, 'other-app-x': 1 });
    expect(calls).toEqual(['beforeCreate', 'refused', 'beforeCreate']);
    expect(sb.posts.filter((p) => p.text.includes('Folio S (v2)'))).toHaveLength(1);
  });

  it('posts on X with media and alt text through a signed request, finds it by marker and deletes it', async () => {
    const sb = createXSandbox(creds);
    sandboxes.push(sb);
    const base = await start(sb);
    const x = new XAdapter({ apiBaseUrl: base, uploadBaseUrl: base, timeoutMs: 2000 });
    const account: ChannelAccount = {
      id: 'ssp-x',
      platform: 'x',
      handle: '@SSP',
      credentials: creds['ssp-x'],
    };
    const ids: string[] = [];
    const res = await x.post(
      account,
      {
        text: 'Hola #AlertaRosa Folio X (v1)',
        image: { data: card, contentType: 'image/jpeg', altText: 'alt' },
        marker: 'Folio X (v1)',
        idempotencyKey: 'k',
      },
      hooks(ids),
    );
    expect(ids).toEqual([res.remoteId]);
    expect(sb.posts[0]).toMatchObject({
      hasImage: true,
      imageType: 'jpeg',
      altText: 'alt',
      accountId: 'ssp-x',
    });
    const reply = await x.post(
      account,
      {
        text: 'Actualización Folio X (v2)',
        replyToRemoteId: res.remoteId,
        marker: 'Folio X (v2)',
        idempotencyKey: 'k2',
      },
      hooks(),
    );
    expect(sb.posts[1].replyTo).toBe(res.remoteId);
    expect((await x.findByMarker(account, lookup('Folio X (v1)')))[0]?.remoteId).toBe(res.remoteId);
    expect(await x.findByMarker(account, lookup('Folio Y'))).toEqual([]);
    await x.delete(account, reply.remoteId);
    await x.delete(account, reply.remoteId); // already gone: fine
    expect(sb.posts[1].deletedAt).not.toBeNull();

    await expect(
      new XAdapter({ apiBaseUrl: base, uploadBaseUrl: base, timeoutMs: 2000 }).post(
        { ...account, credentials: { ...creds['ssp-x'], accessSecret: 'wrong' } },
        { text: 't', marker: 'm', idempotencyKey: 'k' },
        hooks(),
      ),
    ).rejects.toBeInstanceOf(AuthRevokedError);

    sb.faultsOf('ssp-x').rateLimitedUntil = Date.now() + 1500;
    const err = await x
      .post(account, { text: 'x', marker: 'm', idempotencyKey: 'k' }, hooks())
      .catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).resetAt.getTime()).toBeGreaterThanOrEqual(
      sb.faultsOf('ssp-x').rateLimitedUntil,
    );
    sb.faultsOf('ssp-x').rateLimitedUntil = 0;

    const quick = new XAdapter({ apiBaseUrl: base, uploadBaseUrl: base, timeoutMs: 300 });
    sb.faultsOf('ssp-x').timeoutAfterCommit = 1;
    await expect(
      quick.post(account, { text: 'amb Folio Z (v1)', marker: 'Folio Z (v1)', idempotencyKey: 'k' }, hooks()),
    ).rejects.toBeInstanceOf(AmbiguousError);
    expect(await quick.findByMarker(account, lookup('Folio Z (v1)'))).toHaveLength(1);
  });

  it('on X: a repeated text is refused as a duplicate (the post exists), and a lagging timeline shows a new post only later', async () => {
    const sb = createXSandbox(creds);
    sandboxes.push(sb);
    const base = await start(sb);
    const x = new XAdapter({ apiBaseUrl: base, uploadBaseUrl: base, timeoutMs: 2000 });
    const account: ChannelAccount = {
      id: 'ssp-x',
      platform: 'x',
      handle: '@SSP',
      credentials: creds['ssp-x'],
    };
    sb.faultsOf('ssp-x').visibleAfterMs = 60_000;
    const calls: string[] = [];
    const req = { text: 'Ficha Folio D (v1)', marker: 'Folio D (v1)', idempotencyKey: 'k' };
    const first = await x.post(account, req, hooks([], calls));
    expect(calls).toEqual(['beforeCreate']);
    // Written, but the timeline does not show it yet: an empty look-up proves nothing.
    expect(await x.findByMarker(account, lookup('Folio D (v1)'))).toEqual([]);
    const err = await x.post(account, req, hooks()).catch((e) => e);
    expect(err).toBeInstanceOf(DuplicateContentError);
    expect(sb.stats.duplicatesRefused['ssp-x']).toBe(1);
    sb.faultsOf('ssp-x').visibleAfterMs = 0;
    expect((await x.findByMarker(account, lookup('Folio D (v1)'))).map((p) => p.remoteId)).toEqual([
      first.remoteId,
    ]);
    // Nothing is sent when the caller's beforeCreate refuses (its lease is gone).
    const refused = x.post(
      account,
      { text: 'Otra Folio E (v1)', marker: 'Folio E (v1)', idempotencyKey: 'k' },
      {
        beforeCreate: async () => {
          throw new Error('lease lost');
        },
        onRemoteId: async () => undefined,
        refused: async () => undefined,
      },
    );
    await expect(refused).rejects.toThrow('lease lost');
    expect(sb.posts.filter((p) => p.text.includes('Folio E'))).toHaveLength(0);
  });

  it('posts a photo on a Facebook page with alt text, finds and deletes it; a revoked token is AuthRevoked', async () => {
    const sb = createFacebookSandbox(creds);
    sandboxes.push(sb);
    const base = await start(sb);
    const fb = new FacebookAdapter({ graphBaseUrl: base, graphVersion: 'v21.0', timeoutMs: 2000 });
    const account: ChannelAccount = {
      id: 'ssp-fb',
      platform: 'facebook',
      handle: 'SSP',
      credentials: creds['ssp-fb'],
    };
    const res = await fb.post(
      account,
      {
        text: 'Hola Folio F (v1)',
        image: { data: card, contentType: 'image/jpeg', altText: 'alt fb' },
        marker: 'Folio F (v1)',
        idempotencyKey: 'k',
      },
      hooks(),
    );
    expect(sb.posts[0]).toMatchObject({
      id: res.remoteId,
      hasImage: true,
      imageType: 'jpeg',
      altText: 'alt fb',
    });
    await fb.post(
      account,
      { text: 'Aviso Folio F (v3)', marker: 'Folio F (v3)', idempotencyKey: 'k' },
      hooks(),
    );
    expect(sb.posts[1]).toMatchObject({ kind: 'feed', hasImage: false });
    expect((await fb.findByMarker(account, lookup('Folio F (v1)')))[0]?.remoteId).toBe(res.remoteId);
    await fb.delete(account, res.remoteId);
    await fb.delete(account, res.remoteId);
    expect(sb.posts[0].deletedAt).not.toBeNull();
    sb.faultsOf('ssp-fb').revoked = true;
    await expect(fb.findByMarker(account, lookup('x'))).rejects.toBeInstanceOf(AuthRevokedError);
  });

  it('delivers signed webhooks once per idempotency key and withdraws them', async () => {
    const sb = createPartnerSandbox(creds);
    sandboxes.push(sb);
    const base = await start(sb);
    const hook = new WebhookAdapter({ timeoutMs: 2000 });
    const account: ChannelAccount = {
      id: 'partner-a',
      platform: 'webhook',
      handle: 'A',
      credentials: { ...creds['partner-a'], url: `${base}/hooks/partner-a` },
    };
    const a = await hook.post(
      account,
      {
        text: 't',
        image: { data: card, contentType: 'image/jpeg', altText: 'alt' },
        marker: 'm',
        idempotencyKey: 'same',
      },
      hooks(),
    );
    const b = await hook.post(account, { text: 't', marker: 'm', idempotencyKey: 'same' }, hooks());
    expect(b.remoteId).toBe(a.remoteId);
    expect(sb.posts).toHaveLength(1);
    // A delivery is found again by its key; an unknown key is not there.
    expect(await hook.findByMarker(account, lookup('m', 'same'))).toEqual([
      { remoteId: a.remoteId, url: null },
    ]);
    expect(await hook.findByMarker(account, lookup('m', 'other'))).toEqual([]);
    expect(sb.posts[0]).toMatchObject({ hasImage: true, imageType: 'jpeg' });
    await hook.delete(account, a.remoteId);
    expect(sb.posts[0].deletedAt).not.toBeNull();
    await expect(
      hook.post(
        { ...account, credentials: { ...account.credentials, secret: 'another-secret-123456' } },
        { text: 't', marker: 'm', idempotencyKey: 'k' },
        hooks(),
      ),
    ).rejects.toBeInstanceOf(AuthRevokedError);
  });
});
