import { Injectable, Logger } from '@nestjs/common';
import {
  ActivityType,
  Client,
  MessageType,
  Status,
  type ClientEvents,
  type GuildMember,
  type Message,
  type PartialMessage,
  type PresenceStatusData,
} from 'discord.js';
import type { ObservedMessage, ReferencedMessage } from './message-snapshot';

/**
 * The bot's gateway connection (discord.js, logged in by necord): who the bot is, whether it is connected, its
 * presence, and the lookups a message needs before it can be rendered.
 */
@Injectable()
export class DiscordGateway {
  private readonly logger = new Logger(DiscordGateway.name);

  constructor(private readonly client: Client) {}

  get botUserId(): string | null {
    return this.client.user?.id ?? null;
  }

  isConnected(): boolean {
    return this.client.ws.status === Status.Ready;
  }

  /**
   * Listens to a gateway event until the returned function is called. Handlers may be async: a failure is logged
   * here, since discord.js does not await listeners.
   */
  on<E extends keyof ClientEvents>(event: E, handler: (...args: ClientEvents[E]) => Promise<void> | void): () => void {
    const listener = (...args: ClientEvents[E]): void => {
      Promise.resolve()
        .then(() => handler(...args))
        .catch((error: unknown) => this.logger.error({ event, err: error }, `Could not handle ${String(event)}`));
    };
    this.client.on(event, listener);
    return () => void this.client.off(event, listener);
  }

  setPresence(status: PresenceStatusData, text: string): void {
    if (!this.client.user) return;
    this.client.user.setPresence({ status, activities: [{ type: ActivityType.Custom, name: text, state: text }] });
  }

  /** The whole message: an edit of a message sent before the last restart may arrive partial. Null when it is gone. */
  async complete(message: Message | PartialMessage): Promise<Message | null> {
    if (!message.partial) return message;
    try {
      return await message.fetch();
    } catch (error) {
      this.logger.debug({ messageId: message.id, reason: describe(error) }, 'Could not fetch a partial message');
      return null;
    }
  }

  /** The author's member and the message a reply answers, fetched over REST when the gateway did not bring them. */
  async observe(message: Message<true>): Promise<ObservedMessage> {
    const [member, referenced] = await Promise.all([this.memberOf(message), this.referencedBy(message)]);
    return {
      message,
      member,
      referenced,
      emojiUrl: (id, animated) => this.client.rest.cdn.emoji(id, { extension: animated ? 'gif' : 'png', size: 64 }),
    };
  }

  private async memberOf(message: Message<true>): Promise<GuildMember | null> {
    if (message.member) return message.member;
    if (message.webhookId) return null;
    return this.fetchMember(message, message.author.id);
  }

  private async referencedBy(message: Message<true>): Promise<ReferencedMessage | null | undefined> {
    if (message.type !== MessageType.Reply || !message.reference?.messageId) return undefined;
    let referenced: Message;
    try {
      referenced = await message.fetchReference();
    } catch (error) {
      // Deleted (or never visible to the bot): Discord shows "Original message was deleted".
      this.logger.debug({ messageId: message.id, reason: describe(error) }, 'Referenced message not available');
      return null;
    }
    const member = referenced.inGuild() ? (referenced.member ?? (await this.fetchMember(message, referenced.author.id))) : null;
    return { message: referenced, member };
  }

  private async fetchMember(message: Message<true>, userId: string): Promise<GuildMember | null> {
    try {
      return await message.guild.members.fetch(userId);
    } catch (error) {
      // Left the guild: the message is still shown, with the user's own name and no role colour.
      this.logger.debug({ guildId: message.guildId, userId, reason: describe(error) }, 'Member not available');
      return null;
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
