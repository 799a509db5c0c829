import { Injectable, Logger } from '@nestjs/common';
import { Context, On, type ContextOf } from 'necord';
import { MessageImageService } from './message-image.service';

/** Gateway message events, handed to MessageImageService. */
@Injectable()
export class DiscordMessagesUpdate {
  private readonly logger = new Logger(DiscordMessagesUpdate.name);

  constructor(private readonly images: MessageImageService) {}

  @On('messageCreate')
  onMessageCreate(@Context() [message]: ContextOf<'messageCreate'>): Promise<void> {
    return this.handled('messageCreate', [message.id], () => this.images.messageCreated(message));
  }

  @On('messageUpdate')
  onMessageUpdate(@Context() [, message]: ContextOf<'messageUpdate'>): Promise<void> {
    return this.handled('messageUpdate', [message.id], () => this.images.messageEdited(message));
  }

  @On('messageDelete')
  onMessageDelete(@Context() [message]: ContextOf<'messageDelete'>): Promise<void> {
    return this.handled('messageDelete', [message.id], () => this.images.messagesDeleted([message.id]));
  }

  @On('messageDeleteBulk')
  onMessageDeleteBulk(@Context() [messages]: ContextOf<'messageDeleteBulk'>): Promise<void> {
    const ids = [...messages.keys()];
    return this.handled('messageDeleteBulk', ids, () => this.images.messagesDeleted(ids));
  }

  /** discord.js does not await listeners: a failure here must be logged, not left as an unhandled rejection. */
  private async handled(event: string, messageIds: string[], work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.error({ event, messageIds, err: error }, `Could not handle ${event}`);
    }
  }
}
