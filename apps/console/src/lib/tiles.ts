import { Publication } from '../api/types';

/** uncertain: a send that may have posted, still being looked for (it is withdrawn like a post). */
export type TileState = 'pending' | 'posted' | 'uncertain' | 'failed' | 'cancelled' | 'withdrawn';

export interface AccountTile {
  accountId: string;
  handle: string;
  platform: Publication['platform'];
  state: TileState;
  url: string | null;
  reason: string | null;
  detail: string | null;
  version: number;
  at: string | null;
  noticePosted: boolean;
}

/**
 * One tile per official account from its publications of the alert: «retirada» once every post that
 * carried her photo, or may have (a send that ended ambiguously), is confirmed gone after deactivation;
 * otherwise the state of its latest ficha post.
 */
export function accountTiles(pubs: Publication[], deactivated: boolean): AccountTile[] {
  const byAccount = new Map<string, Publication[]>();
  for (const p of pubs) byAccount.set(p.accountId, [...(byAccount.get(p.accountId) ?? []), p]);
  const tiles: AccountTile[] = [];
  for (const [accountId, list] of byAccount) {
    const ficha = list
      .filter((p) => p.kind !== 'located_notice')
      .sort((a, b) => a.alertVersion - b.alertVersion);
    const latest = ficha[ficha.length - 1] ?? list[0];
    const withPhoto = ficha.filter((p) => p.withImage && (p.remoteId || p.status === 'may_exist'));
    const stillUp = withPhoto.filter((p) => p.withdrawalStatus === 'none');
    const withdrawn = deactivated && withPhoto.length > 0 && stillUp.length === 0;
    const state: TileState = withdrawn
      ? 'withdrawn'
      : latest.status === 'may_exist'
        ? 'uncertain'
        : latest.status;
    tiles.push({
      accountId,
      handle: latest.handle,
      platform: latest.platform,
      state,
      url: state === 'posted' ? latest.remoteUrl : null,
      reason: state === 'failed' ? latest.failureReason : null,
      detail: state === 'failed' || state === 'uncertain' ? latest.lastError : null,
      version: latest.alertVersion,
      at: withdrawn
        ? (withPhoto
            .map((p) => p.withdrawnAt)
            .sort()
            .pop() ?? null)
        : (latest.postedAt ?? latest.failedAt),
      noticePosted: list.some((p) => p.kind === 'located_notice' && p.status === 'posted'),
    });
  }
  return tiles.sort((a, b) => a.platform.localeCompare(b.platform) || a.handle.localeCompare(b.handle));
}
