import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DiscordGateway } from './discord-gateway';
import { MessageImageService } from './message-image.service';

/**
 * Gateway message events, handed to MessageImageService.
 *
 * Subscribed through DiscordGateway rather than necord's @On: necord keeps the handler of an @On method in the
 * decorator's metadata, which belongs to the class and so to the whole process; a second Nest application in the
 * same process (a restart inside one test run) would have its events delivered to the first, closed one.
 */
@Injectable()
export class DiscordMessagesUpdate implements OnModuleInit, OnModuleDestroy {
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly gateway: DiscordGateway,
    private readonly images: MessageImageService,
  ) {}

  onModuleInit(): void {
    this.unsubscribe.push(
      this.gateway.on('messageCreate', (message) => this.images.messageCreated(message)),
      this.gateway.on('messageUpdate', (_old, message) => this.images.messageEdited(message)),
      this.gateway.on('messageDelete', (message) => this.images.messagesDeleted([message.id])),
      this.gateway.on('messageDeleteBulk', (messages) => this.images.messagesDeleted([...messages.keys()])),
    );
  }

  onModuleDestroy(): void {
    for (const stop of this.unsubscribe.splice(0)) stop();
  }
}
