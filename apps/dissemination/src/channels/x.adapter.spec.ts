import { ApiRequestError } from 'twitter-api-v2';
import { requestCause } from './x.adapter';

describe('X adapter: reading twitter-api-v2 request errors (ARCHITECTURE pitfall 13)', () => {
  it('finds the network error behind an ApiRequestError, which the library’s requestError getter loses', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    // Built the way twitter-api-v2 1.29.1 builds it (request-handler.helper: { request, error }).
    const err = new ApiRequestError('Request failed.', { request: {} as never, error: cause } as never);
    // The behaviour we work around: if a new version fixes the getter, this line tells us.
    expect(err.requestError).toBeUndefined();
    expect(requestCause(err)?.code).toBe('ECONNREFUSED');
  });

  it('reads the getter when a version sets it', () => {
    const cause = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const err = new ApiRequestError('Request failed.', {
      request: {} as never,
      requestError: cause,
    } as never);
    expect(requestCause(err)?.code).toBe('ECONNRESET');
  });
});
