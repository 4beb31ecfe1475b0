import { Platform } from '@alerta-rosa/contracts';

/** An account as an adapter needs it: where to post and with which (decrypted) credentials. */
export interface ChannelAccount {
  id: string;
  platform: Platform;
  handle: string;
  credentials: Record<string, string>;
}

export interface PostImage {
  png: Buffer;
  altText: string;
}

export interface PostRequest {
  text: string;
  image?: PostImage;
  /** Remote id of the post this one follows (X reply / Facebook follow-up reference). */
  replyToRemoteId?: string;
  /** Unique text the post carries, by which it can be found again after an ambiguous failure. */
  marker: string;
  /** Stable key for platforms that deduplicate by key (webhooks). */
  idempotencyKey: string;
  /** Structured payload for partners (webhooks); ignored by social platforms. */
  data?: Record<string, unknown>;
}

export interface RemotePost {
  remoteId: string;
  url: string | null;
}

/**
 * One platform. `post` calls `onRemoteId` as soon as the platform has answered with the new post's id
 * (before any follow-up step), so the id is recorded even if the process dies right after.
 * Every failure is a ChannelError.
 */
export interface ChannelAdapter {
  readonly platform: Platform;
  post(
    account: ChannelAccount,
    request: PostRequest,
    onRemoteId: (id: string) => Promise<void>,
  ): Promise<RemotePost>;
  /** Looks through the account's recent posts for one carrying `marker`. */
  findByMarker(account: ChannelAccount, marker: string): Promise<RemotePost | null>;
  /** Deletes a post; a post that is already gone counts as deleted. */
  delete(account: ChannelAccount, remoteId: string): Promise<void>;
}
