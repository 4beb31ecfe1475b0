import { Platform } from '@alerta-rosa/contracts';

/** An account as an adapter needs it: where to post and with which (decrypted) credentials. */
export interface ChannelAccount {
  id: string;
  platform: Platform;
  handle: string;
  credentials: Record<string, string>;
}

export interface PostImage {
  /** The image file (the ficha card: JPEG). */
  data: Buffer;
  contentType: 'image/jpeg' | 'image/png';
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
  /**
   * The other accounts that post this same image (X: the accounts of the same app). An adapter whose
   * platform lets one upload serve several accounts (X `additional_owners`) uploads it once for all.
   */
  shareImageWith?: ChannelAccount[];
}

export interface RemotePost {
  remoteId: string;
  url: string | null;
}

/** What identifies a publication on the platform when its id is not known. */
export interface PostLookup {
  marker: string;
  idempotencyKey: string;
}

/** Calls an adapter makes into the caller while posting. */
export interface PostHooks {
  /**
   * Right before the request that creates the post (the only one that can publish; uploads before it
   * cannot). It records that a send may have posted and confirms the caller still holds its lease: if
   * it throws, nothing is sent.
   */
  beforeCreate(): Promise<void>;
  /**
   * As soon as the platform has answered with the new post (before any follow-up step): the caller
   * records it at once. The adapter returns the same post.
   */
  onRemoteId(remote: RemotePost): Promise<void>;
  /**
   * The create request was refused outright (nothing was posted) and the adapter will send it once
   * more, otherwise: the send that `beforeCreate` recorded is cleared, so that it may be called again.
   * If it throws, nothing more is sent.
   */
  refused(): Promise<void>;
}

/**
 * One platform. `post` calls `hooks.onRemoteId` as soon as the platform has answered with the new
 * post's id, so the id is recorded even if the process dies right after. Every failure is a ChannelError.
 */
export interface ChannelAdapter {
  readonly platform: Platform;
  post(account: ChannelAccount, request: PostRequest, hooks: PostHooks): Promise<RemotePost>;
  /**
   * Every recent post of the account that is this publication (carries its marker; partners: was
   * delivered with its key), oldest first. An empty answer from a platform whose reads lag behind its
   * writes does not prove absence.
   */
  findByMarker(account: ChannelAccount, lookup: PostLookup): Promise<RemotePost[]>;
  /** Deletes a post; a post that is already gone counts as deleted. */
  delete(account: ChannelAccount, remoteId: string): Promise<void>;
}
