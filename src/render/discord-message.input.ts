// What callers hand RenderService.renderDiscordMessage: one message with the people, roles and channels it
// mentions, and image URLs the service fetches itself. The HTTP DTO implements these; the Discord module builds
// them from gateway messages.
import type { APIEmbed, EmbedType } from 'discord-api-types/v10';

/** The client's two themes. */
export const RENDER_THEMES = ['dark', 'light'] as const;
export type RenderTheme = (typeof RENDER_THEMES)[number];

/**
 * How the header shows the message's time: `calendar` as the client does ("Today at 9:30 AM", "Yesterday at …",
 * else the date), relative to `now`; `absolute` always the date and time, which stays true when the image is kept.
 */
export const TIMESTAMP_STYLES = ['calendar', 'absolute'] as const;
export type TimestampStyle = (typeof TIMESTAMP_STYLES)[number];

/** Device pixel ratio of a render: 1 (default) to 3, for high-DPI screens. */
export const RENDER_SCALE = { min: 1, max: 3, default: 1 } as const;

export interface MessageAuthorInput {
  /** Display name as the member appears in the channel (nickname, else global name, else username). */
  name: string;
  /** Avatar picture; fetched only from allowlisted hosts. Absent or failed → Discord's default disc. */
  avatarUrl?: string | null;
  /** Role colour as `#rrggbb` or Discord's integer; 0 / absent means the default colour. */
  color?: string | number | null;
  bot?: boolean;
  /** A verified bot: the APP tag gets the check mark. */
  verified?: boolean;
  /** The user's id: picks Discord's default avatar when there is no picture. */
  id?: string | null;
  /** Legacy 4-digit discriminator ("0" or absent for new usernames): picks the default avatar as Discord does. */
  discriminator?: string | null;
}

export interface ReplyInput {
  /** Absent when the referenced message was deleted. */
  author?: MessageAuthorInput | null;
  content?: string | null;
  hasAttachments?: boolean;
  /** The reply pings the replied-to author: the client writes "@" before the name only then. */
  mentionsAuthor?: boolean;
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
  /** For a video: a picture of its first frame (Discord's media proxy gives one for `proxy_url?format=jpeg`). */
  previewUrl?: string | null;
}

/**
 * Embeds keep Discord's wire shape (snake_case, integer colour), so an embed from a gateway message or from
 * Discord's docs passes through unchanged. Pictures are fetched from `proxy_url` / `proxy_icon_url` when present
 * (Discord's media proxy is on the allowlist), else from `url` / `icon_url`.
 */
export type EmbedInput = { type?: `${EmbedType}` } & Pick<
  APIEmbed,
  'title' | 'description' | 'url' | 'timestamp' | 'color' | 'footer' | 'image' | 'thumbnail' | 'video' | 'author' | 'provider' | 'fields'
>;

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
  /** dark (default) or light. */
  theme?: RenderTheme | null;
  /** Device pixel ratio, 1–3 (default 1). */
  scale?: number | null;
  /** calendar ("Today at …", the client's form; default) or absolute. */
  timestampStyle?: TimestampStyle | null;
  /** ISO 8601: the moment "Today", "Yesterday" and `<t:…:R>` are relative to; default the render time. */
  now?: string | null;
}

/** How a picture is drawn, shared by a single message and a conversation. */
export type RenderLookInput = Pick<DiscordMessageInput, 'width' | 'locale' | 'timeZone' | 'theme' | 'scale' | 'timestampStyle' | 'now'>;

/** Several messages drawn as the client lists them (see normaliseDiscordConversation). */
export interface DiscordConversationInput extends RenderLookInput {
  /** Oldest first; each needs its timestamp for grouping and date separators. */
  messages: Omit<DiscordMessageInput, keyof RenderLookInput>[];
  /** Draws the red "new messages" line above the message at this index. */
  newMessagesFrom?: number | null;
}
