import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Message, PartialMessage } from 'discord.js';
import { KeyedSerializer } from '../common/keyed-serializer';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DiscordGateway } from './discord-gateway';
import { MessageImageStore } from './message-image.store';
import { MessageImageWorker } from './message-image.worker';
import { snapshotOf } from './message-snapshot';

/**
 * What happens to a message's image when the message is written, edited or deleted in Discord. Events of one
 * message are handled one after another, in gateway order: two quick edits must not land in MongoDB reversed.
 */
@Injectable()
export class MessageImageService {
  private readonly logger = new Logger(MessageImageService.name);
  private readonly perMessage = new KeyedSerializer();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly gateway: DiscordGateway,
    private readonly store: MessageImageStore,
    private readonly worker: MessageImageWorker,
  ) {}

  messageCreated(message: Message): Promise<void> {
    return this.perMessage.run(message.id, () => this.recordCreated(message));
  }

  messageEdited(edited: Message | PartialMessage): Promise<void> {
    return this.perMessage.run(edited.id, () => this.recordEdited(edited));
  }

  /** Works from the records alone: the messages may be long gone from every cache (sent before a restart). */
  async messagesDeleted(messageIds: string[]): Promise<void> {
    await Promise.all(messageIds.map((messageId) => this.perMessage.run(messageId, () => this.recordDeleted(messageId))));
  }

  private async recordCreated(message: Message): Promise<void> {
    if (!this.isRendered(message)) return;
    const snapshot = snapshotOf(await this.gateway.observe(message));
    if (!(await this.store.recordNew(snapshot))) {
      this.logger.debug({ messageId: message.id }, 'Message already recorded (gateway replay)');
      return;
    }
    this.logger.log({ messageId: message.id, channelId: message.channelId, authorId: message.author.id }, 'New message');
    await this.worker.runNow(snapshot.messageId);
  }

  private async recordEdited(edited: Message | PartialMessage): Promise<void> {
    const message = await this.gateway.complete(edited);
    if (!message || !this.isRendered(message)) return;
    const snapshot = snapshotOf(await this.gateway.observe(message));
    const outcome = await this.store.recordEdit(snapshot);
    if (outcome === 'unchanged') {
      this.logger.debug({ messageId: message.id }, 'Edit changes nothing shown; image kept');
      return;
    }
    if (outcome === 'gone') return;
    // A message from before Herald watched this channel gets its first image on its first edit.
    if (outcome === 'unknown') await this.store.recordNew(snapshot);
    this.logger.log({ messageId: message.id, channelId: message.channelId, outcome }, 'Message edited');
    await this.worker.runNow(snapshot.messageId);
  }

  private async recordDeleted(messageId: string): Promise<void> {
    if (!(await this.store.recordDelete(messageId))) return;
    this.logger.log({ messageId }, 'Message deleted');
    await this.worker.runNow(messageId);
  }

  /** Messages people write in guild channels the bot is asked to watch; not its own, not other bots' by default. */
  private isRendered(message: Message): message is Message<true> {
    if (!message.inGuild() || message.system) return false;
    if (message.author.id === this.gateway.botUserId) return false;
    if (message.author.bot && !this.config.discord.renderBotMessages) return false;
    const allowlist = this.config.discord.channelAllowlist;
    if (allowlist.length === 0) return true;
    const parentId = message.channel.isThread() ? message.channel.parentId : null;
    return allowlist.includes(message.channelId) || (parentId !== null && allowlist.includes(parentId));
  }
}
