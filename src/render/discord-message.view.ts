// The message as the discord-message template receives it: already normalised by RenderService, every image
// already fetched. Shared by the service (which builds it) and the template (which draws it), so it is declared once.

/** A `data:image/...;base64,` URL fetched by the service, or null when the image is missing or its fetch failed (the page draws a placeholder). */
export type InlineImage = string | null;

export interface MessageAuthorView {
  name: string;
  avatar: InlineImage;
  /** `#rrggbb` of the member's highest coloured role, or null for the default name colour. */
  color: string | null;
  bot: boolean;
}

export interface ReplyView {
  /** null when the referenced message was deleted ("Original message was deleted"). */
  author: MessageAuthorView | null;
  content: string;
  /** The referenced message has attachments but no text ("Click to see attachment"). */
  hasAttachments: boolean;
}

export interface MentionDirectory {
  users: Record<string, { name: string }>;
  roles: Record<string, { name: string; color: string | null }>;
  channels: Record<string, { name: string }>;
}

export interface AttachmentView {
  filename: string;
  /** Bytes. */
  size: number;
  /** 'image' draws the picture inline, 'file' draws a file card. */
  kind: 'image' | 'file';
  image: InlineImage;
  width: number | null;
  height: number | null;
  spoiler: boolean;
}

export interface EmbedMediaView {
  image: InlineImage;
  width: number | null;
  height: number | null;
}

export interface EmbedFieldView {
  name: string;
  value: string;
  inline: boolean;
}

export interface EmbedView {
  /** `#rrggbb` of the left bar, or null for the default. */
  color: string | null;
  provider: string | null;
  /** icon: undefined when the embed has none, null when it failed to load. */
  author: { name: string; icon?: InlineImage } | null;
  title: string | null;
  /** The title has a URL: Discord draws it in link colour. */
  titleIsLink: boolean;
  description: string | null;
  fields: EmbedFieldView[];
  thumbnail: EmbedMediaView | null;
  image: EmbedMediaView | null;
  footer: { text: string; icon?: InlineImage } | null;
  /** ISO 8601. */
  timestamp: string | null;
}

export interface ReactionView {
  /** Unicode emoji, or the custom emoji's name when `image` is set. */
  name: string;
  /** undefined for a unicode emoji; a custom emoji's picture (null when it failed to load). */
  image?: InlineImage;
  count: number;
  /** The viewer (the bot) reacted too: Discord highlights the pill. */
  me: boolean;
}

export interface StickerView {
  name: string;
  /** null for Lottie stickers or failed fetches: drawn as a placeholder card with the name. */
  image: InlineImage;
}

export interface DiscordMessageView {
  /** CSS pixels of the message box. */
  width: number;
  /** BCP 47 locale and IANA time zone used for the timestamps. */
  locale: string;
  timeZone: string;
  author: MessageAuthorView;
  content: string;
  /** ISO 8601. */
  timestamp: string;
  editedTimestamp: string | null;
  reply: ReplyView | null;
  mentions: MentionDirectory;
  /** Custom emoji pictures by emoji id, for `<:name:id>` in content and embeds. */
  emojis: Record<string, InlineImage>;
  attachments: AttachmentView[];
  embeds: EmbedView[];
  reactions: ReactionView[];
  stickers: StickerView[];
  /** Reference time for `<t:…:R>` relative timestamps; null when the content has none (keeps the cache key stable). */
  now: string | null;
}

/** What `window.herald.render(view)` resolves to: the size of the message box in CSS pixels, drawn at the page's top left. */
export interface RenderedSize {
  width: number;
  height: number;
}
