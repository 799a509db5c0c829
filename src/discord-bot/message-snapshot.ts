import { createHash } from 'node:crypto';
import { StickerFormatType, UserFlags, type APIEmbed, type GuildMember, type Message, type User } from 'discord.js';
import type { DiscordMessageInput, EmbedInput, MessageAuthorInput, ReplyInput } from '../render/discord-message.input';

/** The message a reply answers: its author's member (when still in the guild), or null when it was deleted. */
export interface ReferencedMessage {
  message: Message;
  member: GuildMember | null;
}

/** A gateway message with what rendering it needs that the gateway does not always send along. */
export interface ObservedMessage {
  message: Message<true>;
  member: GuildMember | null;
  /** undefined: not a reply; null: a reply to a message that no longer exists. */
  referenced: ReferencedMessage | null | undefined;
  /** Builds Discord CDN URLs for custom emoji (the client's configured CDN). */
  emojiUrl: (emojiId: string, animated: boolean) => string;
}

/** Everything Herald keeps about one message: ids, names, times, and what its image shows. */
export interface MessageSnapshot {
  guildId: string;
  channelId: string;
  messageId: string;
  authorId: string;
  /** As they were when the message was seen; the backend gets them so it needs no Discord lookups of its own. */
  guildName: string;
  /** The channel's name (a thread's own name for a message in a thread). */
  channelName: string;
  /** The message link Discord's "Copy Message Link" gives. */
  jumpUrl: string;
  createdAt: Date;
  editedAt: Date | null;
  input: DiscordMessageInput;
  shownHash: string;
}

const CUSTOM_EMOJI = /<(a?):\w{2,32}:(\d{17,21})>/g;
const AVATAR_SIZE = 128;

/**
 * The S3 key of a message's image, from DISCORD_IMAGE_KEY_TEMPLATE (default `discord/{guildId}/{channelId}/{messageId}.png`).
 * A channel name is put in as it is, except that "/" (possible in thread names) would add a folder and becomes "-".
 */
export function imageKey(template: string, snapshot: Pick<MessageSnapshot, 'guildId' | 'channelId' | 'messageId' | 'channelName'>): string {
  const values: Record<string, string> = {
    guildId: snapshot.guildId,
    channelId: snapshot.channelId,
    messageId: snapshot.messageId,
    channelName: snapshot.channelName.replaceAll('/', '-'),
  };
  return template.replace(/\{(\w+)\}/g, (placeholder, name: string) => values[name] ?? placeholder);
}

export function snapshotOf(observed: ObservedMessage): MessageSnapshot {
  const { message } = observed;
  const input = renderInputOf(observed);
  return {
    guildId: message.guildId,
    channelId: message.channelId,
    messageId: message.id,
    authorId: message.author.id,
    guildName: message.guild.name,
    channelName: message.channel.name,
    jumpUrl: message.url,
    createdAt: message.createdAt,
    editedAt: message.editedAt,
    input,
    shownHash: shownHash(input),
  };
}

/**
 * A hash of what the image shows, leaving out the edit time: Discord also sends MESSAGE_UPDATE for changes nobody
 * sees (pins, flags, a re-sent identical embed), and those must not cost a render or an `updated` callback.
 */
export function shownHash(input: DiscordMessageInput): string {
  return createHash('sha256')
    .update(JSON.stringify({ ...input, editedTimestamp: null }))
    .digest('hex');
}

export function renderInputOf({ message, member, referenced, emojiUrl }: ObservedMessage): DiscordMessageInput {
  const shown = referenced ? [message, referenced.message] : [message];
  return withoutUndefined({
    author: authorOf(message.author, member),
    content: message.content,
    timestamp: message.createdAt.toISOString(),
    editedTimestamp: message.editedAt?.toISOString() ?? null,
    reply: replyOf(referenced, message.mentions.repliedUser !== null),
    // The reply line's text is drawn from the same names and emoji as the message's own: the template has one table.
    mentions: mentionsOf(shown),
    emojis: customEmojiIn(shown.map((each) => each.content).join('\n')).map(({ id, animated }) => ({ id, url: emojiUrl(id, animated) })),
    attachments: message.attachments.map((attachment) => ({
      url: attachment.url,
      filename: attachment.name,
      size: attachment.size,
      contentType: attachment.contentType,
      width: attachment.width,
      height: attachment.height,
      spoiler: attachment.spoiler,
      // Discord's media proxy answers a video's first frame for ?format=jpeg.
      previewUrl: attachment.contentType?.startsWith('video/')
        ? `${attachment.proxyURL}${attachment.proxyURL.includes('?') ? '&' : '?'}format=jpeg`
        : undefined,
    })),
    embeds: message.embeds.map((embed) => embedOf(embed.toJSON())),
    stickers: message.stickers.map((sticker) => ({
      name: sticker.name,
      // Lottie stickers are vector animations with no picture to fetch; the template draws a card instead.
      url: sticker.format === StickerFormatType.Lottie ? null : sticker.url,
    })),
  });
}

/**
 * The users, roles and channels the messages mention, named as their server shows them; the first message's name
 * wins where two mention the same one (a member's nickname can differ between when each was seen, not in what it is).
 */
function mentionsOf(messages: Message[]): NonNullable<DiscordMessageInput['mentions']> {
  const users = new Map<string, { id: string; name: string }>();
  const roles = new Map<string, { id: string; name: string; color: number | null }>();
  const channels = new Map<string, { id: string; name: string }>();
  for (const { mentions } of messages) {
    for (const user of mentions.users.values()) {
      if (!users.has(user.id)) users.set(user.id, { id: user.id, name: mentions.members?.get(user.id)?.displayName ?? user.displayName });
    }
    for (const role of mentions.roles.values()) {
      if (!roles.has(role.id)) roles.set(role.id, { id: role.id, name: role.name, color: role.color || null });
    }
    for (const channel of mentions.channels.values()) {
      if (!channels.has(channel.id))
        channels.set(channel.id, { id: channel.id, name: 'name' in channel && channel.name ? channel.name : channel.id });
    }
  }
  return { users: [...users.values()], roles: [...roles.values()], channels: [...channels.values()] };
}

function authorOf(user: User, member: GuildMember | null): MessageAuthorInput {
  const hasPicture = Boolean(member?.avatar || user.avatar);
  return {
    name: member?.displayName ?? user.displayName,
    // No picture of their own: the renderer draws Discord's default avatar for the id from its local assets.
    avatarUrl: hasPicture ? (member ?? user).displayAvatarURL({ extension: 'png', size: AVATAR_SIZE }) : null,
    id: user.id,
    discriminator: user.discriminator,
    color: member?.displayColor || null,
    bot: user.bot,
    verified: user.bot && (user.flags?.has(UserFlags.VerifiedBot) ?? false),
  };
}

function replyOf(referenced: ReferencedMessage | null | undefined, repliedUserPinged: boolean): ReplyInput | null {
  if (referenced === undefined) return null;
  if (referenced === null) return { author: null, content: null };
  return {
    author: authorOf(referenced.message.author, referenced.member),
    content: referenced.message.content,
    hasAttachments: referenced.message.attachments.size > 0,
    mentionsAuthor: repliedUserPinged,
  };
}

function embedOf(embed: APIEmbed): EmbedInput {
  const { type, title, description, url, timestamp, color, footer, image, thumbnail, video, author, provider, fields } = embed;
  // `rich` is how every card is drawn anyway; other types (image, gifv, video) change the drawing.
  return {
    type: type === 'rich' ? undefined : type,
    title,
    description,
    url,
    timestamp,
    color,
    footer,
    image,
    thumbnail,
    video,
    author,
    provider,
    fields,
  };
}

function customEmojiIn(content: string): { id: string; animated: boolean }[] {
  const seen = new Map<string, boolean>();
  for (const match of content.matchAll(CUSTOM_EMOJI)) seen.set(match[2], match[1] === 'a');
  return [...seen].map(([id, animated]) => ({ id, animated }));
}

/** MongoDB and the render hash should see the same object: no keys whose value is undefined. */
function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
