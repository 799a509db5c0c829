// What callers hand RenderService.renderDiscordMessage: one message with the people, roles and channels it
// mentions, and image URLs the service fetches itself. The HTTP DTO implements these; the Discord module builds
// them from gateway messages.
import type { APIEmbed } from 'discord-api-types/v10';

export interface MessageAuthorInput {
  /** Display name as the member appears in the channel (nickname, else global name, else username). */
  name: string;
  /** Avatar picture; fetched only from allowlisted hosts. Absent or failed → Discord's default disc. */
  avatarUrl?: string | null;
  /** Role colour as `#rrggbb` or Discord's integer; 0 / absent means the default colour. */
  color?: string | number | null;
  bot?: boolean;
}

export interface ReplyInput {
  /** Absent when the referenced message was deleted. */
  author?: MessageAuthorInput | null;
  content?: string | null;
  hasAttachments?: boolean;
}

export interface MentionedUserInput {
  id: string;
  name: string;
}

export interface MentionedRoleInput {
  id: string;
  name: string;
  color?: string | number | null;
}

export interface MentionedChannelInput {
  id: string;
  name: string;
}

export interface MentionsInput {
  users?: MentionedUserInput[];
  roles?: MentionedRoleInput[];
  channels?: MentionedChannelInput[];
}

export interface CustomEmojiInput {
  id: string;
  /** Where to fetch it; defaults to Discord's CDN for the id. */
  url?: string | null;
}

export interface AttachmentInput {
  url: string;
  filename: string;
  /** Bytes, shown on file cards. */
  size?: number | null;
  contentType?: string | null;
  width?: number | null;
  height?: number | null;
  spoiler?: boolean;
}

/**
 * Embeds keep Discord's wire shape (snake_case, integer colour), so an embed from a gateway message or from
 * Discord's docs passes through unchanged. Pictures are fetched from `proxy_url` / `proxy_icon_url` when present
 * (Discord's media proxy is on the allowlist), else from `url` / `icon_url`.
 */
export type EmbedInput = Pick<APIEmbed, 'title' | 'description' | 'url' | 'timestamp' | 'color' | 'footer' | 'image' | 'thumbnail' | 'author' | 'provider' | 'fields'>;

export interface ReactionInput {
  /** Unicode emoji in `name`, or a custom emoji with `id` (and optionally where to fetch it). */
  emoji: { name: string; id?: string | null; url?: string | null };
  count: number;
  me?: boolean;
}

export interface StickerInput {
  name: string;
  /** PNG/APNG/GIF sticker picture; Lottie stickers have none and are drawn as a card with the name. */
  url?: string | null;
}

export interface DiscordMessageInput {
  author: MessageAuthorInput;
  content?: string | null;
  /** ISO 8601; defaults to now. */
  timestamp?: string | null;
  editedTimestamp?: string | null;
  reply?: ReplyInput | null;
  mentions?: MentionsInput | null;
  emojis?: CustomEmojiInput[];
  attachments?: AttachmentInput[];
  embeds?: EmbedInput[];
  reactions?: ReactionInput[];
  stickers?: StickerInput[];
  /** Width of the image in CSS pixels (320–1200, default 640). */
  width?: number | null;
  /** BCP 47 locale for dates (default en-US). */
  locale?: string | null;
  /** IANA time zone for dates (default UTC). */
  timeZone?: string | null;
}
