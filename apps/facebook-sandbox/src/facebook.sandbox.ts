import { Sandbox, SandboxReply, SandboxRequest, formFields } from '../../sandbox-kit/src/sandbox.server';

interface Page {
  accountId: string;
  pageId: string;
  token: string;
}

const graphError = (
  status: number,
  code: number,
  message: string,
  type = 'OAuthException',
  subcode?: number,
): SandboxReply => ({
  status,
  body: {
    error: { message, type, code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: 'sandbox' },
  },
});

/**
 * Stand-in for the Graph API endpoints the adapter uses: page photo post (multipart, alt text), page
 * feed post, page feed read, delete post. Every call needs the page's access token.
 */
export function createFacebookSandbox(credentials: Record<string, Record<string, string>>): Sandbox {
  const sb = new Sandbox('facebook-sandbox');
  const pages = new Map<string, Page>();
  for (const [accountId, c] of Object.entries(credentials)) {
    if (c.pageId) pages.set(c.pageId, { accountId, pageId: c.pageId, token: c.pageAccessToken });
  }
  let seq = 0;
  const nextId = () => String(100_000_000_000 + ++seq);

  async function authenticate(
    req: SandboxRequest,
    pageId: string,
    fields: Record<string, string>,
  ): Promise<Page | SandboxReply> {
    const page = pages.get(pageId);
    await sb.delay(page?.accountId);
    const token = fields.access_token ?? req.url.searchParams.get('access_token') ?? '';
    if (!page || token !== page.token)
      return graphError(400, 190, 'Invalid OAuth access token - Cannot parse access token');
    sb.count('requests', page.accountId);
    if (sb.faultsOf(page.accountId).revoked) {
      sb.count('revokedRefusals', page.accountId);
      return graphError(
        400,
        190,
        'Error validating access token: The session has been invalidated.',
        'OAuthException',
        460,
      );
    }
    const limited = sb.rateLimitReply(
      page.accountId,
      graphError(429, 32, 'Page request limit reached', 'OAuthException').body,
    );
    if (limited) return limited;
    return page;
  }

  const ok = (page: Page, body: unknown): SandboxReply => ({
    status: 200,
    body,
    headers: sb.rateHeaders(page.accountId),
  });

  sb.route('POST', '/:version/:pageId/photos', async (req, res) => {
    const { fields, files } = formFields(req);
    const page = await authenticate(req, req.params.pageId, fields);
    if ('status' in page) return page;
    const source = files.find((f) => f.name === 'source');
    if (!source || !source.data.length)
      return graphError(400, 324, '(#324) Requires upload file', 'OAuthException');
    if (sb.failBeforeCommit(page.accountId))
      return graphError(500, 2, 'An unexpected error has occurred.', 'OAuthException');
    const photoId = nextId();
    const post = sb.store(
      {
        id: `${page.pageId}_${nextId()}`,
        accountId: page.accountId,
        kind: 'photo',
        text: fields.message ?? fields.caption ?? '',
        hasImage: true,
        imageBytes: source.data.length,
        altText: fields.alt_text_custom ?? null,
        replyTo: null,
        extra: { photoId, pageId: page.pageId },
      },
      source.data,
    );
    if (sb.hangAfterCommit(page.accountId, res)) return 'handled';
    return ok(page, { id: photoId, post_id: post.id });
  });

  sb.route('POST', '/:version/:pageId/feed', async (req, res) => {
    const { fields } = formFields(req);
    const page = await authenticate(req, req.params.pageId, fields);
    if ('status' in page) return page;
    if (!fields.message) return graphError(400, 100, '(#100) message is required', 'OAuthException');
    if (sb.failBeforeCommit(page.accountId))
      return graphError(500, 2, 'An unexpected error has occurred.', 'OAuthException');
    const post = sb.store({
      id: `${page.pageId}_${nextId()}`,
      accountId: page.accountId,
      kind: 'feed',
      text: fields.message,
      hasImage: false,
      imageBytes: 0,
      altText: null,
      replyTo: null,
      extra: { pageId: page.pageId },
    });
    if (sb.hangAfterCommit(page.accountId, res)) return 'handled';
    return ok(page, { id: post.id });
  });

  sb.route('GET', '/:version/:pageId/feed', async (req) => {
    const page = await authenticate(req, req.params.pageId, {});
    if ('status' in page) return page;
    const limit = Math.min(100, Number(req.url.searchParams.get('limit') ?? 25));
    const now = Date.now();
    const data = sb.posts
      .filter((p) => p.accountId === page.accountId && !p.deletedAt && sb.isVisible(p, now))
      .slice(-limit)
      .reverse()
      .map((p) => ({ id: p.id, message: p.text, created_time: p.createdAt }));
    return ok(page, { data, paging: {} });
  });

  sb.route('DELETE', '/:version/:postId', async (req) => {
    const pageId = req.params.postId.split('_')[0];
    const page = await authenticate(req, pageId, {});
    if ('status' in page) return page;
    const post = sb.posts.find((p) => p.id === req.params.postId && p.accountId === page.accountId);
    if (!post || post.deletedAt) {
      return graphError(
        400,
        100,
        'Unsupported delete request. Object with ID does not exist',
        'GraphMethodException',
        33,
      );
    }
    post.deletedAt = new Date().toISOString();
    return ok(page, { success: true });
  });

  return sb;
}
