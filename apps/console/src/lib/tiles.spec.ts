import { Publication } from '../api/types';
import { accountTiles } from './tiles';

const pub = (over: Partial<Publication>): Publication => ({
  id: 'p',
  accountId: 'ssp-x',
  platform: 'x',
  handle: '@SSP_Oaxaca',
  accountStatus: 'ok',
  kind: 'activation',
  alertVersion: 1,
  status: 'pending',
  remoteId: null,
  remoteUrl: null,
  withImage: true,
  attempts: 0,
  failureReason: null,
  lastError: null,
  postedAt: null,
  failedAt: null,
  withdrawalStatus: 'none',
  withdrawnAt: null,
  ...over,
});

describe('account tiles of the alert page', () => {
  it('shows the latest ficha post of each account, with the link when published', () => {
    const [tile] = accountTiles(
      [
        pub({ status: 'posted', remoteId: '1', remoteUrl: 'https://x.example/1' }),
        pub({ id: 'p2', alertVersion: 2, kind: 'update', status: 'pending' }),
      ],
      false,
    );
    expect(tile).toMatchObject({ state: 'pending', version: 2, url: null });
    const [posted] = accountTiles(
      [pub({ status: 'posted', remoteId: '1', remoteUrl: 'https://x.example/1' })],
      false,
    );
    expect(posted).toMatchObject({ state: 'posted', url: 'https://x.example/1' });
  });

  it('gives the reason of a failed post', () => {
    const [tile] = accountTiles(
      [pub({ status: 'failed', failureReason: 'auth_revoked', lastError: '401' })],
      false,
    );
    expect(tile).toMatchObject({ state: 'failed', reason: 'auth_revoked', detail: '401' });
  });

  it('is «retirada» only once every post with the photo is withdrawn after deactivation', () => {
    const up = pub({ status: 'posted', remoteId: '1' });
    const gone = pub({
      id: 'p2',
      alertVersion: 2,
      kind: 'update',
      status: 'posted',
      remoteId: '2',
      withdrawalStatus: 'withdrawn',
    });
    expect(accountTiles([up, gone], true)[0].state).toBe('posted');
    const both = [{ ...up, withdrawalStatus: 'withdrawn' as const }, gone];
    expect(accountTiles(both, true)[0].state).toBe('withdrawn');
    const notice = pub({
      id: 'n',
      kind: 'located_notice',
      withImage: false,
      status: 'posted',
      remoteId: '3',
    });
    expect(accountTiles([...both, notice], true)[0]).toMatchObject({
      state: 'withdrawn',
      noticePosted: true,
    });
  });

  it('treats a post that may exist as up until the withdrawal has looked for it', () => {
    const uncertain = pub({ status: 'may_exist', lastError: 'timeout' });
    expect(accountTiles([uncertain], false)[0]).toMatchObject({ state: 'uncertain', detail: 'timeout' });
    expect(accountTiles([uncertain], true)[0].state).toBe('uncertain');
    expect(accountTiles([{ ...uncertain, withdrawalStatus: 'absent' }], true)[0].state).toBe('withdrawn');
    const posted = pub({ id: 'p2', status: 'posted', remoteId: '9', withdrawalStatus: 'withdrawn' });
    expect(accountTiles([posted, { ...uncertain, alertVersion: 2 }], true)[0].state).toBe('uncertain');
  });
});
