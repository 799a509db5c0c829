export type BackendEventName = 'created' | 'updated' | 'deleted';

/**
 * What the backend receives, exactly as POSTed with BACKEND_PROTOCOL=herald; the legacy protocol sends parts of it
 * as the render service's query parameters. Callbacks queued before names and links were kept lack them.
 */
export interface BackendCallback {
  event: BackendEventName;
  /** One per message version and event (`discord:<message id>:<event>:<revision>`): the backend dedupes by it. */
  idempotencyKey: string;
  guildId: string;
  channelId: string;
  messageId: string;
  authorId: string;
  guildName?: string | null;
  channelName?: string | null;
  jumpUrl?: string;
  urn: string | null;
  /** The image's public URL, when S3_PUBLIC_URL is set. */
  url?: string;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
}
