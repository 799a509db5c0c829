// The message as the discord-message template receives it: already normalised by RenderService, every image
// already fetched. Shared by the service (which builds it) and the template (which draws it), so it is declared once.

/** A `data:image/...;base64,` URL fetched by the service, or null when the image is missing or its fetch failed (the page draws a placeholder). */
export type InlineImage = string | null;

/**
 * Every interface is generic over how a picture is held: the normalised message (what the cache key hashes) holds
 * the URL to fetch, the view handed to the page holds the fetched `InlineImage`.
 */
export type ImageUrl = string | null;

export interface MessageAuthorView<Image = InlineImage> {
  name: string;
  avatar: Image;
  /** Which of Discord's default avatars (0–5) is drawn when `avatar` is missing or failed. */
  defaultAvatar: number;
  /** `#rrggbb` of the member's highest coloured role, or null for the default name colour. */
  color: string | null;
  bot: boolean;
  /** A verified bot: the APP tag carries a check mark. */
  verified: boolean;
}

export interface ReplyView<Image = InlineImage> {
  /** null when the referenced message was deleted ("Original message was deleted"). */
  author: MessageAuthorView<Image> | null;
  content: string;
  /** The referenced message has attachments but no text ("Click to see attachment"). */
  hasAttachments: boolean;
  /** The reply pings its author: "@" before the name. */
  mentionsAuthor: boolean;
}

export interface MentionDirectory {
  users: Record<string, { name: string }>;
  roles: Record<string, { name: string; color: string | null }>;
  channels: Record<string, { name: string }>;
}

export interface AttachmentView<Image = InlineImage> {
  filename: string;
  /** Bytes. */
  size: number;
  /** 'image' and 'video' draw a picture (a video's first frame) in the mosaic, 'file' draws a file card. */
  kind: 'image' | 'video' | 'file';
  /** The picture, or a video's first frame. */
  image: Image;
  /** The client's badge over the picture: GIF for animated GIFs, a play button for videos. */
  badge: MediaBadge | null;
  /** The file card's icon. */
  fileType: FileType;
  width: number | null;
  height: number | null;
  spoiler: boolean;
}

export type MediaBadge = 'gif' | 'play';
export type FileType = 'archive' | 'code' | 'document' | 'spreadsheet' | 'audio' | 'video' | 'image' | 'unknown';

export interface EmbedMediaView<Image = InlineImage> {
  image: Image;
  width: number | null;
  height: number | null;
  badge?: MediaBadge | null;
}

export interface EmbedFieldView {
  name: string;
  value: string;
  inline: boolean;
}

export interface EmbedView<Image = InlineImage> {
  /**
   * 'rich': the framed card. 'media': a link preview the client draws as the bare picture, no frame (an image link,
   * a Tenor or Giphy GIF), held in `image`.
   */
  kind: 'rich' | 'media';
  /** `#rrggbb` of the left bar, or null for the default. */
  color: string | null;
  provider: string | null;
  /** icon: undefined when the embed has none, null when it failed to load. */
  author: { name: string; icon?: Image } | null;
  title: string | null;
  /** The title has a URL: Discord draws it in link colour. */
  titleIsLink: boolean;
  description: string | null;
  fields: EmbedFieldView[];
  thumbnail: EmbedMediaView<Image> | null;
  image: EmbedMediaView<Image> | null;
  footer: { text: string; icon?: Image } | null;
  /** ISO 8601. */
  timestamp: string | null;
  /** The footer's time reads "Today at …" / "Yesterday at …" (calendar style, as the header's); absent: the date. */
  timestampDay?: 'today' | 'yesterday' | null;
}

export interface ReactionView<Image = InlineImage> {
  /** Unicode emoji, or the custom emoji's name when `image` is set. */
  name: string;
  /** undefined for a unicode emoji; a custom emoji's picture (null when it failed to load). */
  image?: Image;
  count: number;
  /** The viewer (the bot) reacted too: Discord highlights the pill. */
  me: boolean;
}

export interface StickerView<Image = InlineImage> {
  name: string;
  /** null for Lottie stickers or failed fetches: drawn as a placeholder card with the name. */
  image: Image;
}

export type Theme = 'dark' | 'light';

export interface DiscordMessageView<Image = InlineImage> {
  /** CSS pixels of the message box. */
  width: number;
  theme: Theme;
  /** BCP 47 locale and IANA time zone used for the timestamps. */
  locale: string;
  timeZone: string;
  author: MessageAuthorView<Image>;
  content: string;
  /** ISO 8601. */
  timestamp: string;
  /** The header says "Today at …" / "Yesterday at …" (calendar style, relative to the render's `now`); null: the date. */
  timestampDay: 'today' | 'yesterday' | null;
  editedTimestamp: string | null;
  reply: ReplyView<Image> | null;
  mentions: MentionDirectory;
  /** Custom emoji pictures by emoji id, for `<:name:id>` in content and embeds. */
  emojis: Record<string, Image>;
  attachments: AttachmentView<Image>[];
  embeds: EmbedView<Image>[];
  reactions: ReactionView<Image>[];
  stickers: StickerView<Image>[];
  /** Reference time for `<t:…:R>` relative timestamps; null when the content has none (keeps the cache key stable). */
  now: string | null;
}

/** One message of a conversation, with how the client groups it under the one before. */
export interface ConversationMessageView<Image = InlineImage> extends Omit<DiscordMessageView<Image>, 'width' | 'theme' | 'locale' | 'timeZone'> {
  /** Same author within 7 minutes of the previous message (and no reply, no separator): drawn without a header. */
  grouped: boolean;
  /** A date separator above this message (its day, "May 1, 2024"): the first message and each new day. */
  dateSeparator: boolean;
  /** The red "NEW" line above this message. */
  newMessages: boolean;
}

export interface DiscordConversationView<Image = InlineImage> {
  kind: 'conversation';
  width: number;
  theme: Theme;
  locale: string;
  timeZone: string;
  messages: ConversationMessageView<Image>[];
}

export type { RenderedSize } from '../browser/template-page';
