// Turns a caller's message into the one canonical shape the template draws and the cache key hashes: defaults
// filled, colours and dates in one format, limits applied, maps in a stable order, image URLs resolved.
import { parse as parseDiscordMarkdown } from 'discord-markdown-parser';
import type { APIEmbedImage } from 'discord-api-types/v10';
import { LruCache } from '../browser/lru-cache';
import { isValidLocale, isValidTimeZone } from '../common/intl';
import { DISCORD_LIMITS as DISCORD_SEND_LIMITS, cutToDiscordLength } from '../discord-api/discord-limits';
import {
  RENDER_SCALE,
  type AttachmentInput,
  type DiscordConversationInput,
  type DiscordMessageInput,
  type EmbedInput,
  type MessageAuthorInput,
  type RenderTheme,
  type TimestampStyle,
} from './discord-message.input';
import type {
  AttachmentView,
  DiscordConversationView,
  DiscordMessageView,
  EmbedMediaView,
  EmbedView,
  FileType,
  ImageUrl,
  MessageAuthorView,
} from './discord-message.view';

export type NormalisedDiscordMessage = DiscordMessageView<ImageUrl>;

/**
 * What a render accepts: Discord's embed limits as sends obey them, but content up to 4000 characters (messages
 * from Nitro users), and caps on what one picture can show. The HTTP DTO rejects beyond them, internal callers are
 * cut to them.
 */
export const DISCORD_LIMITS = {
  ...DISCORD_SEND_LIMITS,
  content: 4000,
  attachments: 10,
  reactions: 20,
  stickers: 3,
  name: 80,
} as const;

export const WIDTH = { min: 320, max: 1200, default: 640 } as const;
const DEFAULT_LOCALE = 'en-US';
const DEFAULT_TIME_ZONE = 'UTC';
const DISCORD_CDN = 'https://cdn.discordapp.com';
const IMAGE_TYPES = /^image\/(png|jpe?g|gif|webp|avif)$/i;
const IMAGE_EXTENSIONS = /\.(png|jpe?g|gif|webp|avif)$/i;
const GIF = /^image\/gif$|\.gif$/i;
const VIDEO_TYPES = /^video\//i;
const VIDEO_EXTENSIONS = /\.(mp4|webm|mov|m4v|mkv|avi)$/i;
/** Link previews the client draws as the bare picture: Tenor and Giphy GIFs (gifv) and links straight to a picture. */
const MEDIA_EMBED_TYPES = new Set(['image', 'gifv']);

/** File card icons by extension, as the client picks them. */
const FILE_TYPES: [FileType, RegExp][] = [
  ['archive', /\.(zip|rar|7z|tar|gz|tgz|bz2|xz|zst|jar|apk|deb|rpm|iso|dmg)$/i],
  [
    'code',
    /\.(js|mjs|cjs|ts|tsx|jsx|json|ya?ml|toml|xml|html?|css|scss|py|rb|go|rs|java|kt|c|cc|cpp|h|hpp|cs|php|sh|bash|sql|lua|swift|diff|patch|ini|cfg|conf|log)$/i,
  ],
  ['spreadsheet', /\.(xlsx?|ods|csv|tsv|numbers)$/i],
  ['document', /\.(pdf|docx?|odt|rtf|txt|md|pptx?|odp|pages|key|epub)$/i],
  ['audio', /\.(mp3|wav|ogg|oga|opus|flac|m4a|aac|wma)$/i],
  ['video', /\.(mp4|webm|mov|m4v|mkv|avi|wmv)$/i],
  ['image', /\.(png|jpe?g|gif|webp|avif|bmp|svg|tiff?|heic|psd)$/i],
];

export interface NormaliseOptions {
  /** The clock, for defaults (message time, `now`) and relative `<t:…:R>` timestamps. */
  now: Date;
  /** Where custom emoji without a URL are fetched from (DISCORD_CDN_URL); Discord's CDN by default. */
  cdnUrl?: string;
  /** The header's time form when the input names none (the HTTP API: calendar; the bot: its configuration). */
  timestampStyle?: TimestampStyle;
}

/**
 * Discord's default avatar for a user: for new usernames (no discriminator, or "0") `(id >> 22) % 6`, for legacy
 * ones `discriminator % 5`; 0 when neither is known.
 */
export function defaultAvatarIndex(id: string | null | undefined, discriminator: string | null | undefined): number {
  if (discriminator && /^\d{1,4}$/.test(discriminator) && Number(discriminator) !== 0) return Number(discriminator) % 5;
  if (id && /^\d{1,20}$/.test(id)) return Number((BigInt(id) >> 22n) % 6n);
  return 0;
}

/**
 * A calendar-day formatter for each time zone asked for lately. Building an Intl.DateTimeFormat costs far more than
 * using one (~60 µs against ~8 µs here), and the header's calendar form asks for two a render: kept, normalising an
 * HTTP render's message took 24 µs of CPU instead of 126 in a loop (2026-11-30; a profile of Herald under the bench's
 * load put the builds at 0.9 ms a render). The bound keeps spellings of zones (Intl accepts any letter case) from
 * growing it.
 */
const dayFormats = new LruCache<Intl.DateTimeFormat>(64, Number.POSITIVE_INFINITY, () => 0);

function dayFormat(timeZone: string): Intl.DateTimeFormat {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    dayFormats.set(timeZone, format);
  }
  return format;
}

/** The calendar day of `date` in `timeZone`, as a number of days since 1970 (comparable across dates). */
function dayNumber(date: Date, timeZone: string): number {
  const parts = dayFormat(timeZone).formatToParts(date);
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  return Math.round(Date.UTC(get('year'), get('month') - 1, get('day')) / 86_400_000);
}

/** "today" / "yesterday" for the header's calendar form, relative to `now` in the viewer's zone; null otherwise. */
export function calendarDay(timestamp: string, now: Date, timeZone: string): 'today' | 'yesterday' | null {
  const difference = dayNumber(now, timeZone) - dayNumber(new Date(timestamp), timeZone);
  return difference === 0 ? 'today' : difference === 1 ? 'yesterday' : null;
}

export function isSameDay(a: string, b: string, timeZone: string): boolean {
  return dayNumber(new Date(a), timeZone) === dayNumber(new Date(b), timeZone);
}

export function fileTypeOf(filename: string, contentType: string | null | undefined): FileType {
  const type = contentType?.toLowerCase() ?? '';
  for (const [fileType, extensions] of FILE_TYPES) if (extensions.test(filename)) return fileType;
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('text/')) return 'document';
  if (/zip|compressed|tar|archive/.test(type)) return 'archive';
  return 'unknown';
}

export function normaliseColor(color: string | number | null | undefined): string | null {
  if (typeof color === 'number') {
    if (!Number.isInteger(color) || color <= 0 || color > 0xffffff) return null;
    return `#${color.toString(16).padStart(6, '0')}`;
  }
  if (typeof color !== 'string') return null;
  const hex = color.trim().toLowerCase();
  if (/^#[0-9a-f]{6}$/.test(hex)) return hex;
  if (/^#[0-9a-f]{3}$/.test(hex)) return `#${[...hex.slice(1)].map((digit) => digit + digit).join('')}`;
  return null;
}

export function normaliseTimestamp(value: string | null | undefined): string | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** Minute precision: what the header shows, and it keeps the cache key stable within a minute. */
function toMinute(date: Date): string {
  const copy = new Date(date.getTime());
  copy.setUTCSeconds(0, 0);
  return copy.toISOString();
}

/** Cut to `limit` characters counted as the DTO counts them (code points), so valid input is never cut. */
function text(value: string | null | undefined, limit: number): string {
  return cutToDiscordLength((value ?? '').replace(/\r\n?/g, '\n'), limit);
}

function optionalText(value: string | null | undefined, limit: number): string | null {
  const result = text(value, limit);
  return result.trim() === '' ? null : result;
}

function url(value: string | null | undefined): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  try {
    const parsed = new URL(value.trim());
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : null;
  } catch {
    return null;
  }
}

/** Discord's CDN resizes on request: ask for the size we draw (at 2x), not the 4096px original. */
function sizedCdnUrl(value: string | null, size: number): string | null {
  if (!value) return null;
  const parsed = new URL(value);
  if (parsed.hostname === 'cdn.discordapp.com' && /^\/(avatars|embed\/avatars|emojis|guilds|icons)\//.test(parsed.pathname)) {
    parsed.searchParams.set('size', String(size));
  }
  return parsed.toString();
}

function dimension(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : null;
}

function author(input: MessageAuthorInput): MessageAuthorView<ImageUrl> {
  return {
    name: text(input.name, DISCORD_LIMITS.name).trim() || 'Unknown',
    avatar: sizedCdnUrl(url(input.avatarUrl), 128),
    defaultAvatar: defaultAvatarIndex(input.id, input.discriminator),
    color: normaliseColor(input.color),
    bot: input.bot === true,
    verified: input.bot === true && input.verified === true,
  };
}

function media(input: APIEmbedImage | undefined, badge: EmbedMediaView['badge'] = null): EmbedMediaView<ImageUrl> | null {
  if (!input) return null;
  const source = url(input.proxy_url) ?? url(input.url);
  if (!source) return null;
  return { image: source, width: dimension(input.width), height: dimension(input.height), ...(badge ? { badge } : {}) };
}

function byId<T extends { id: string }, V>(items: T[] | undefined, pick: (item: T) => V): Record<string, V> {
  const sorted = [...(items ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out: Record<string, V> = {};
  for (const item of sorted) out[item.id] = pick(item);
  return out;
}

interface MarkdownNode {
  type: string;
  id?: string;
  format?: string;
  content?: unknown;
  items?: unknown;
}

/** Walks the parsed markdown (the same parser the page uses) for custom emoji ids and relative timestamps. */
function scanMarkdown(sources: string[]): { emojiIds: Set<string>; hasRelativeTime: boolean } {
  const emojiIds = new Set<string>();
  let hasRelativeTime = false;
  const visit = (nodes: unknown): void => {
    if (!Array.isArray(nodes)) return;
    for (const node of nodes as MarkdownNode[]) {
      if (node.type === 'emoji' && typeof node.id === 'string') emojiIds.add(node.id);
      if (node.type === 'timestamp' && node.format === 'R') hasRelativeTime = true;
      visit(node.content);
    }
  };
  for (const source of sources) if (source) visit(parseDiscordMarkdown(source, 'extended'));
  return { emojiIds, hasRelativeTime };
}

function icon(proxy: string | undefined, direct: string | undefined): { icon: ImageUrl } | Record<string, never> {
  if (!proxy && !direct) return {};
  return { icon: sizedCdnUrl(url(proxy) ?? url(direct), 64) };
}

/**
 * Image links and gifv (Tenor, Giphy) are drawn as the bare picture: the thumbnail (a still of the GIF or video),
 * else the image; a gifv carries the GIF badge, since a still cannot show it moves.
 */
function mediaEmbed(input: EmbedInput): EmbedView<ImageUrl> | null {
  const picture = media(input.thumbnail ?? input.image, input.type === 'gifv' ? 'gif' : null);
  if (!picture) return null;
  const size =
    input.type === 'gifv' && input.video?.width && input.video.height
      ? { width: dimension(input.video.width), height: dimension(input.video.height) }
      : {};
  return { ...emptyEmbed(), kind: 'media', image: { ...picture, ...size } };
}

function emptyEmbed(): EmbedView<ImageUrl> {
  return {
    kind: 'rich',
    color: null,
    provider: null,
    author: null,
    title: null,
    titleIsLink: false,
    description: null,
    fields: [],
    thumbnail: null,
    image: null,
    footer: null,
    timestamp: null,
  };
}

function embed(input: EmbedInput): EmbedView<ImageUrl> {
  if (input.type && MEDIA_EMBED_TYPES.has(input.type)) {
    const bare = mediaEmbed(input);
    if (bare) return bare;
  }
  // A video link (YouTube, …): the framed card with the video's still as its large picture and a play button.
  const isVideo = input.type === 'video' && !!input.thumbnail;
  return {
    kind: 'rich',
    color: normaliseColor(input.color),
    provider: optionalText(input.provider?.name, DISCORD_LIMITS.authorName),
    author: input.author?.name?.trim()
      ? { name: text(input.author.name, DISCORD_LIMITS.authorName), ...icon(input.author.proxy_icon_url, input.author.icon_url) }
      : null,
    title: optionalText(input.title, DISCORD_LIMITS.embedTitle),
    titleIsLink: url(input.url) !== null,
    description: optionalText(input.description, DISCORD_LIMITS.embedDescription),
    fields: (input.fields ?? []).slice(0, DISCORD_LIMITS.embedFields).map((field) => ({
      name: text(field.name, DISCORD_LIMITS.fieldName),
      value: text(field.value, DISCORD_LIMITS.fieldValue),
      inline: field.inline === true,
    })),
    thumbnail: isVideo ? null : media(input.thumbnail),
    image: isVideo
      ? media(
          { ...input.thumbnail!, width: input.video?.width ?? input.thumbnail!.width, height: input.video?.height ?? input.thumbnail!.height },
          'play',
        )
      : media(input.image),
    footer: input.footer?.text?.trim()
      ? { text: text(input.footer.text, DISCORD_LIMITS.footerText), ...icon(input.footer.proxy_icon_url, input.footer.icon_url) }
      : null,
    timestamp: normaliseTimestamp(input.timestamp),
  };
}

function attachmentView(attachment: AttachmentInput): AttachmentView<ImageUrl> {
  const source = url(attachment.url);
  const type = attachment.contentType ?? '';
  const isImage = source !== null && (type ? IMAGE_TYPES.test(type) : IMAGE_EXTENSIONS.test(attachment.filename));
  const isVideo = source !== null && !isImage && (type ? VIDEO_TYPES.test(type) : VIDEO_EXTENSIONS.test(attachment.filename));
  const kind = isImage ? 'image' : isVideo ? 'video' : 'file';
  return {
    filename: text(attachment.filename, 256) || 'file',
    size: Math.max(0, Math.round(attachment.size ?? 0)),
    kind,
    // A video is drawn from its first frame; without one, as a dark frame with the play button.
    image: isImage ? source : isVideo ? url(attachment.previewUrl) : null,
    badge: isVideo ? 'play' : isImage && GIF.test(type || attachment.filename) ? 'gif' : null,
    fileType: fileTypeOf(attachment.filename, attachment.contentType),
    width: dimension(attachment.width),
    height: dimension(attachment.height),
    spoiler: attachment.spoiler === true || attachment.filename.startsWith('SPOILER_'),
  };
}

/** The client hides a message's text when it is only the link its image or GIF preview shows. */
function withoutPreviewedLink(content: string, embeds: EmbedInput[]): string {
  const link = content.trim();
  if (!/^https?:\/\/\S+$/.test(link)) return content;
  return embeds.some((item) => item.type && MEDIA_EMBED_TYPES.has(item.type) && item.url === link) ? '' : content;
}

export function normaliseScale(scale: number | null | undefined): number {
  if (typeof scale !== 'number' || !Number.isFinite(scale)) return RENDER_SCALE.default;
  // Quarter steps: 1.5 and 2 as asked for, without a new cache key per float.
  return Math.min(RENDER_SCALE.max, Math.max(RENDER_SCALE.min, Math.round(scale * 4) / 4));
}

export function normaliseTheme(theme: RenderTheme | null | undefined): RenderTheme {
  return theme === 'light' ? 'light' : 'dark';
}

export function normaliseDiscordMessage(input: DiscordMessageInput, options: NormaliseOptions): NormalisedDiscordMessage {
  const embedInputs = (input.embeds ?? []).slice(0, DISCORD_LIMITS.embeds);
  const content = withoutPreviewedLink(text(input.content, DISCORD_LIMITS.content), embedInputs);
  const embeds = embedInputs.map(embed);
  const reply = input.reply
    ? {
        author: input.reply.author ? author(input.reply.author) : null,
        content: input.reply.author ? text(input.reply.content, DISCORD_LIMITS.content) : '',
        hasAttachments: input.reply.hasAttachments === true,
        mentionsAuthor: input.reply.author ? input.reply.mentionsAuthor === true : false,
      }
    : null;

  const markdownSources = [
    content,
    reply?.content ?? '',
    ...embeds.flatMap((item) => [item.title ?? '', item.description ?? '', ...item.fields.flatMap((field) => [field.name, field.value])]),
  ];
  const { emojiIds, hasRelativeTime } = scanMarkdown(markdownSources);
  const cdn = (options.cdnUrl ?? DISCORD_CDN).replace(/\/+$/, '');
  const emojiUrls = new Map((input.emojis ?? []).map((emoji) => [emoji.id, url(emoji.url)]));
  const emojis: Record<string, ImageUrl> = {};
  for (const id of [...emojiIds].sort()) emojis[id] = emojiUrls.get(id) ?? sizedCdnUrl(`${cdn}/emojis/${id}.png`, 64);

  const locale = input.locale && isValidLocale(input.locale) ? Intl.getCanonicalLocales(input.locale)[0] : DEFAULT_LOCALE;
  const timeZone = input.timeZone && isValidTimeZone(input.timeZone) ? input.timeZone : DEFAULT_TIME_ZONE;
  const width = Math.min(WIDTH.max, Math.max(WIDTH.min, Math.round(input.width ?? WIDTH.default)));
  const now = (input.now && normaliseTimestamp(input.now) && new Date(input.now)) || options.now;
  const timestamp = normaliseTimestamp(input.timestamp) ?? toMinute(now);
  const timestampStyle = input.timestampStyle ?? options.timestampStyle ?? 'calendar';

  return {
    width,
    theme: normaliseTheme(input.theme),
    locale,
    timeZone,
    author: author(input.author),
    content,
    timestamp,
    // Only the relation to `now` enters the view (and the cache key), not `now` itself.
    timestampDay: timestampStyle === 'calendar' ? calendarDay(timestamp, now, timeZone) : null,
    editedTimestamp: normaliseTimestamp(input.editedTimestamp),
    reply,
    mentions: {
      users: byId(input.mentions?.users, (user) => ({ name: text(user.name, DISCORD_LIMITS.name) })),
      roles: byId(input.mentions?.roles, (role) => ({ name: text(role.name, DISCORD_LIMITS.name), color: normaliseColor(role.color) })),
      channels: byId(input.mentions?.channels, (channel) => ({ name: text(channel.name, DISCORD_LIMITS.name) })),
    },
    emojis,
    attachments: (input.attachments ?? []).slice(0, DISCORD_LIMITS.attachments).map(attachmentView),
    embeds:
      timestampStyle === 'calendar'
        ? embeds.map((item) => (item.timestamp ? { ...item, timestampDay: calendarDay(item.timestamp, now, timeZone) } : item))
        : embeds,
    reactions: (input.reactions ?? []).slice(0, DISCORD_LIMITS.reactions).map((reaction) => {
      const custom = reaction.emoji.id ? { image: url(reaction.emoji.url) ?? sizedCdnUrl(`${cdn}/emojis/${reaction.emoji.id}.png`, 64) } : {};
      return { name: text(reaction.emoji.name, 64), ...custom, count: Math.max(1, Math.round(reaction.count)), me: reaction.me === true };
    }),
    stickers: (input.stickers ?? []).slice(0, DISCORD_LIMITS.stickers).map((sticker) => ({
      name: text(sticker.name, 64),
      image: url(sticker.url),
    })),
    now: hasRelativeTime ? toMinute(now) : null,
  };
}

/** What one conversation render accepts: how many messages, and how tall the picture may grow (CSS pixels). */
export const CONVERSATION_LIMITS = { messages: 30, height: 5000 } as const;
/** The client starts a new header when the same author writes again after this long. */
const GROUP_WINDOW_MS = 7 * 60 * 1000;

export type NormalisedDiscordConversation = DiscordConversationView<ImageUrl>;

/**
 * Several messages as the client lists them: a message is grouped under the one before (no avatar, no header) when
 * the same author wrote it within 7 minutes, on the same day, without a reply and with no divider between; a date
 * separator opens the first message and every new day; the "new messages" line goes above `newMessagesFrom`.
 */
export function normaliseDiscordConversation(input: DiscordConversationInput, options: NormaliseOptions): NormalisedDiscordConversation {
  const look = {
    width: input.width,
    theme: input.theme,
    locale: input.locale,
    timeZone: input.timeZone,
    timestampStyle: input.timestampStyle,
    now: input.now,
  };
  const messages = input.messages.slice(0, CONVERSATION_LIMITS.messages).map((message) => normaliseDiscordMessage({ ...message, ...look }, options));
  const first = messages[0];
  const timeZone = first?.timeZone ?? DEFAULT_TIME_ZONE;
  const authorKey = (index: number) => {
    const author = input.messages[index].author;
    return author.id ? `id:${author.id}` : `name:${messages[index].author.name}\u0000${messages[index].author.avatar ?? ''}`;
  };
  return {
    kind: 'conversation',
    width: first?.width ?? WIDTH.default,
    theme: normaliseTheme(input.theme),
    locale: first?.locale ?? DEFAULT_LOCALE,
    timeZone,
    messages: messages.map((message, index) => {
      const previous = index > 0 ? messages[index - 1] : null;
      const dateSeparator = !previous || !isSameDay(previous.timestamp, message.timestamp, timeZone);
      const newMessages = input.newMessagesFrom === index;
      const grouped =
        previous !== null &&
        !dateSeparator &&
        !newMessages &&
        message.reply === null &&
        authorKey(index) === authorKey(index - 1) &&
        Math.abs(Date.parse(message.timestamp) - Date.parse(previous.timestamp)) < GROUP_WINDOW_MS;
      const { width: _width, theme: _theme, locale: _locale, timeZone: _zone, ...shown } = message;
      return { ...shown, grouped, dateSeparator, newMessages };
    }),
  };
}
