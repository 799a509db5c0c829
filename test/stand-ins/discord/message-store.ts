import {
  AttachmentFlags,
  EmbedType,
  MessageReferenceType,
  MessageType,
  type APIAttachment,
  type APIEmbed,
  type APIGuildMember,
  type APIMessage,
  type APIUser,
  type MessageFlags,
  type APIUserWithMember,
  type APIGuildMemberNoUser,
  type GatewayMessageCreateDispatchData,
  type Snowflake,
} from 'discord-api-types/v10';
import { pngSize } from './images';
import { SnowflakeGenerator } from './snowflake';

/** One attachment as the stand-in keeps it: the bytes, so a test can compare what was uploaded. */
export interface StoredAttachment {
  id: Snowflake;
  filename: string;
  contentType: string;
  description?: string;
  data: Buffer;
}

/**
 * A message with what the real Discord remembers about it, plus what tests want to look at: the current version,
 * its attachments' bytes, every earlier version (oldest first) and when it was deleted.
 */
export interface StoredMessage {
  /** The message as the gateway carries it (APIMessage plus guild_id and member). */
  message: GatewayMessageCreateDispatchData;
  attachments: StoredAttachment[];
  edits: GatewayMessageCreateDispatchData[];
  deletedAt: Date | null;
}

export interface NewAttachment {
  filename: string;
  data: Buffer;
  contentType?: string;
  description?: string;
}

export interface MessageDraft {
  channelId: Snowflake;
  author: APIUser;
  content: string;
  embeds?: APIEmbed[];
  attachments?: NewAttachment[];
  /** Id of the message this one answers (a reply). */
  replyTo?: Snowflake;
  /** When it was sent; the id is derived from it as Discord does. */
  timestamp?: Date;
  tts?: boolean;
  nonce?: string | number;
}

export interface MessageChange {
  content?: string;
  embeds?: APIEmbed[];
  /** The attachments that stay, by id; omitted: all stay. */
  keepAttachmentIds?: Snowflake[];
  addAttachments?: NewAttachment[];
  editedAt?: Date;
}

/** Where the stand-in's CDN lives, to build attachment URLs with. */
export interface CdnUrls {
  cdn: string;
  media: string;
}

export class MessageStore {
  private readonly byChannel = new Map<Snowflake, Map<Snowflake, StoredMessage>>();
  private readonly ids = new SnowflakeGenerator();
  private readonly allAttachments = new Map<Snowflake, StoredAttachment>();

  constructor(
    /** The guild a channel belongs to. */
    private readonly guildOf: (channelId: Snowflake) => Snowflake,
    private readonly memberOf: (userId: Snowflake) => APIGuildMember | undefined,
    private urls: CdnUrls,
  ) {}

  /** The port is known only once the server listens. */
  setUrls(urls: CdnUrls): void {
    this.urls = urls;
  }

  create(draft: MessageDraft): StoredMessage {
    const at = draft.timestamp ?? new Date();
    const id = this.ids.next(at);
    const attachments = (draft.attachments ?? []).map((file) => this.storeAttachment(file, at));
    const referenced = draft.replyTo ? this.find(draft.channelId, draft.replyTo) : undefined;
    if (draft.replyTo && !referenced) {
      throw new Error(`Discord stand-in: no message ${draft.replyTo} in channel ${draft.channelId} to reply to`);
    }
    const message: GatewayMessageCreateDispatchData = {
      id,
      channel_id: draft.channelId,
      guild_id: this.guildOf(draft.channelId),
      author: draft.author,
      content: draft.content,
      timestamp: discordTimestamp(at),
      edited_timestamp: null,
      tts: draft.tts ?? false,
      pinned: false,
      type: referenced ? MessageType.Reply : MessageType.Default,
      flags: 0 as MessageFlags,
      embeds: (draft.embeds ?? []).map(asReceivedEmbed),
      attachments: attachments.map((file) => this.describeAttachment(draft.channelId, file)),
      components: [],
      ...this.mentionsOf(draft.content),
      ...(draft.nonce !== undefined && { nonce: draft.nonce }),
      ...(this.memberWithoutUser(draft.author.id) && { member: this.memberWithoutUser(draft.author.id) }),
      ...(referenced && {
        message_reference: {
          type: MessageReferenceType.Default,
          message_id: referenced.message.id,
          channel_id: referenced.message.channel_id,
          guild_id: this.guildOf(draft.channelId),
        },
        referenced_message: restShape(referenced.message),
      }),
    };
    const stored: StoredMessage = { message, attachments, edits: [], deletedAt: null };
    this.channel(draft.channelId).set(id, stored);
    return stored;
  }

  edit(stored: StoredMessage, change: MessageChange): StoredMessage {
    const at = change.editedAt ?? new Date();
    const kept = change.keepAttachmentIds ? stored.attachments.filter((file) => change.keepAttachmentIds!.includes(file.id)) : stored.attachments;
    const added = (change.addAttachments ?? []).map((file) => this.storeAttachment(file, at));
    const content = change.content ?? stored.message.content;
    stored.edits.push(stored.message);
    stored.attachments = [...kept, ...added];
    stored.message = {
      ...stored.message,
      content,
      edited_timestamp: discordTimestamp(at),
      embeds: change.embeds ? change.embeds.map(asReceivedEmbed) : stored.message.embeds,
      attachments: stored.attachments.map((file) => this.describeAttachment(stored.message.channel_id, file)),
      ...this.mentionsOf(content),
    };
    return stored;
  }

  /** A live message `authorId` created with `nonce` since `since` (Discord's enforce_nonce looks back a few minutes). */
  createdWithNonce(authorId: Snowflake, nonce: string | number, since: Date): StoredMessage | undefined {
    for (const channel of this.byChannel.values()) {
      for (const stored of channel.values()) {
        const { message } = stored;
        if (stored.deletedAt || message.author.id !== authorId || message.nonce !== nonce) continue;
        if (new Date(message.timestamp) >= since) return stored;
      }
    }
    return undefined;
  }

  markDeleted(stored: StoredMessage, at = new Date()): void {
    stored.deletedAt = at;
  }

  find(channelId: Snowflake, messageId: Snowflake): StoredMessage | undefined {
    const stored = this.byChannel.get(channelId)?.get(messageId);
    return stored && !stored.deletedAt ? stored : undefined;
  }

  /** Oldest first. */
  list(channelId: Snowflake, includeDeleted = false): StoredMessage[] {
    const all = [...(this.byChannel.get(channelId)?.values() ?? [])];
    return (includeDeleted ? all : all.filter((stored) => !stored.deletedAt)).sort((a, b) => (BigInt(a.message.id) < BigInt(b.message.id) ? -1 : 1));
  }

  /**
   * The message with its referenced_message as it is now: Discord sends null there once the answered message is
   * deleted (the copy taken when the reply was written would be stale).
   */
  current(stored: StoredMessage): GatewayMessageCreateDispatchData {
    const reference = stored.message.message_reference;
    if (!reference?.message_id || stored.message.type !== MessageType.Reply) return stored.message;
    const referenced = this.find(reference.channel_id ?? stored.message.channel_id, reference.message_id);
    return { ...stored.message, referenced_message: referenced ? restShape(referenced.message) : null };
  }

  /** Any attachment ever uploaded: the real CDN keeps serving replaced attachments for a while too. */
  attachment(attachmentId: Snowflake): StoredAttachment | undefined {
    return this.allAttachments.get(attachmentId);
  }

  private storeAttachment(file: NewAttachment, at: Date): StoredAttachment {
    const stored: StoredAttachment = {
      id: this.ids.next(at),
      filename: file.filename,
      contentType: file.contentType ?? guessContentType(file.filename),
      data: file.data,
      ...(file.description !== undefined && { description: file.description }),
    };
    this.allAttachments.set(stored.id, stored);
    return stored;
  }

  private describeAttachment(channelId: Snowflake, file: StoredAttachment): APIAttachment {
    const path = `/attachments/${channelId}/${file.id}/${encodeURIComponent(file.filename)}`;
    const size = file.contentType.startsWith('image/') ? pngSize(file.data) : null;
    return {
      id: file.id,
      // Discord marks uploads named SPOILER_* as spoilers; clients blur them.
      flags: file.filename.startsWith('SPOILER_') ? AttachmentFlags.IsSpoiler : (0 as AttachmentFlags),
      filename: file.filename,
      size: file.data.length,
      url: `${this.urls.cdn}${path}`,
      proxy_url: `${this.urls.media}${path}`,
      content_type: file.contentType,
      ...(file.description !== undefined && { description: file.description }),
      ...(size && { width: size.width, height: size.height }),
    };
  }

  private mentionsOf(content: string): Pick<GatewayMessageCreateDispatchData, 'mentions' | 'mention_roles' | 'mention_everyone'> {
    const userIds = new Set([...content.matchAll(/<@!?(\d{17,20})>/g)].map((match) => match[1]));
    const mentions: APIUserWithMember[] = [];
    for (const userId of userIds) {
      const member = this.memberOf(userId);
      if (!member?.user) continue;
      const withoutUser = this.memberWithoutUser(userId);
      mentions.push({ ...member.user, ...(withoutUser && { member: withoutUser }) });
    }
    return {
      mentions,
      mention_roles: [...new Set([...content.matchAll(/<@&(\d{17,20})>/g)].map((match) => match[1]))],
      mention_everyone: /@(everyone|here)\b/.test(content),
    };
  }

  private memberWithoutUser(userId: Snowflake): APIGuildMemberNoUser | undefined {
    const member = this.memberOf(userId);
    if (!member) return undefined;
    const { user: _user, ...rest } = member;
    return { ...rest, joined_at: member.joined_at ?? discordTimestamp(new Date(0)) };
  }

  private channel(channelId: Snowflake): Map<Snowflake, StoredMessage> {
    let messages = this.byChannel.get(channelId);
    if (!messages) {
      messages = new Map();
      this.byChannel.set(channelId, messages);
    }
    return messages;
  }
}

/** A message as REST answers it: no guild_id/member, mentions without members. */
export function restShape(message: GatewayMessageCreateDispatchData): APIMessage {
  const { guild_id: _guild, member: _member, channel_type: _type, mentions, ...rest } = message;
  return { ...rest, mentions: mentions.map(({ member: _m, ...user }) => user) };
}

/** Discord writes timestamps with microseconds and an explicit offset. */
export function discordTimestamp(at: Date): string {
  return at.toISOString().replace('Z', '000+00:00');
}

function asReceivedEmbed(embed: APIEmbed): APIEmbed {
  return { type: EmbedType.Rich, ...embed };
}

function guessContentType(filename: string): string {
  const extension = filename.toLowerCase().split('.').pop() ?? '';
  const known: Record<string, string> = {
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    gif: 'image/gif',
    webp: 'image/webp',
    txt: 'text/plain; charset=utf-8',
    json: 'application/json; charset=utf-8',
    pdf: 'application/pdf',
  };
  return known[extension] ?? 'application/octet-stream';
}
