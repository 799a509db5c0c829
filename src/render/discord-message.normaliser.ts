// Turns a caller's message into the one canonical shape the template draws and the cache key hashes: defaults
// filled, colours and dates in one format, limits applied, maps in a stable order, image URLs resolved.
import { parse as parseDiscordMarkdown } from 'discord-markdown-parser';
import type { APIEmbedImage } from 'discord-api-types/v10';
import { DISCORD_LIMITS as DISCORD_SEND_LIMITS } from '../discord-api/discord-limits';
import type { DiscordMessageInput, EmbedInput, MessageAuthorInput } from './discord-message.input';
import type { DiscordMessageView, EmbedMediaView, EmbedView, ImageUrl, MessageAuthorView } from './discord-message.view';

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

export interface NormaliseOptions {
  /** The clock, for defaults (message time) and relative `<t:…:R>` timestamps. */
  now: Date;
  /** Where custom emoji without a URL are fetched from (DISCORD_CDN_URL); Discord's CDN by default. */
  cdnUrl?: string;
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

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export function isValidLocale(locale: string): boolean {
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
}

function text(value: string | null | undefined, limit: number): string {
  return (value ?? '').replace(/\r\n?/g, '\n').slice(0, limit);
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
    color: normaliseColor(input.color),
    bot: input.bot === true,
  };
}

function media(input: APIEmbedImage | undefined): EmbedMediaView<ImageUrl> | null {
  if (!input) return null;
  const source = url(input.proxy_url) ?? url(input.url);
  if (!source) return null;
  return { image: source, width: dimension(input.width), height: dimension(input.height) };
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

function embed(input: EmbedInput): EmbedView<ImageUrl> {
  return {
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
    thumbnail: media(input.thumbnail),
    image: media(input.image),
    footer: input.footer?.text?.trim()
      ? { text: text(input.footer.text, DISCORD_LIMITS.footerText), ...icon(input.footer.proxy_icon_url, input.footer.icon_url) }
      : null,
    timestamp: normaliseTimestamp(input.timestamp),
  };
}

export function normaliseDiscordMessage(input: DiscordMessageInput, options: NormaliseOptions): NormalisedDiscordMessage {
  const content = text(input.content, DISCORD_LIMITS.content);
  const embeds = (input.embeds ?? []).slice(0, DISCORD_LIMITS.embeds).map(embed);
  const reply = input.reply
    ? {
        author: input.reply.author ? author(input.reply.author) : null,
        content: input.reply.author ? text(input.reply.content, DISCORD_LIMITS.content) : '',
        hasAttachments: input.reply.hasAttachments === true,
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

  return {
    width,
    locale,
    timeZone,
    author: author(input.author),
    content,
    timestamp: normaliseTimestamp(input.timestamp) ?? toMinute(options.now),
    editedTimestamp: normaliseTimestamp(input.editedTimestamp),
    reply,
    mentions: {
      users: byId(input.mentions?.users, (user) => ({ name: text(user.name, DISCORD_LIMITS.name) })),
      roles: byId(input.mentions?.roles, (role) => ({ name: text(role.name, DISCORD_LIMITS.name), color: normaliseColor(role.color) })),
      channels: byId(input.mentions?.channels, (channel) => ({ name: text(channel.name, DISCORD_LIMITS.name) })),
    },
    emojis,
    attachments: (input.attachments ?? []).slice(0, DISCORD_LIMITS.attachments).map((attachment) => {
      const source = url(attachment.url);
      const isImage =
        source !== null &&
        (attachment.contentType ? IMAGE_TYPES.test(attachment.contentType) : IMAGE_EXTENSIONS.test(attachment.filename));
      return {
        filename: text(attachment.filename, 256) || 'file',
        size: Math.max(0, Math.round(attachment.size ?? 0)),
        kind: isImage ? 'image' : 'file',
        image: isImage ? source : null,
        width: dimension(attachment.width),
        height: dimension(attachment.height),
        spoiler: attachment.spoiler === true || attachment.filename.startsWith('SPOILER_'),
      };
    }),
    embeds,
    reactions: (input.reactions ?? []).slice(0, DISCORD_LIMITS.reactions).map((reaction) => {
      const custom = reaction.emoji.id ? { image: url(reaction.emoji.url) ?? sizedCdnUrl(`${cdn}/emojis/${reaction.emoji.id}.png`, 64) } : {};
      return { name: text(reaction.emoji.name, 64), ...custom, count: Math.max(1, Math.round(reaction.count)), me: reaction.me === true };
    }),
    stickers: (input.stickers ?? []).slice(0, DISCORD_LIMITS.stickers).map((sticker) => ({
      name: text(sticker.name, 64),
      image: url(sticker.url),
    })),
    now: hasRelativeTime ? toMinute(options.now) : null,
  };
}
