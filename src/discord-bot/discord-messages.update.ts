import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DiscordGateway } from './discord-gateway';
import { MessageCatchUp } from './message-catch-up';
import { MessageImageService } from './message-image.service';

/**
 * Gateway message events (MESSAGE_CREATE, _UPDATE, _DELETE, _DELETE_BULK), handed to MessageImageService as the raw
 * dispatch, before discord.js reads them: whatever discord.js or Herald later fails to read is retried or parked as
 * an outbox job, never dropped with a log line. A shard's new session (READY) starts MessageCatchUp on it.
 *
 * Subscribed through DiscordGateway rather than necord's @On: necord keeps the handler of an @On method in the
 * decorator's metadata, which belongs to the class and so to the whole process; a second Nest application in the
 * same process (a restart inside one test run) would have its events delivered to the first, closed one.
 */
@Injectable()
export class DiscordMessagesUpdate implements OnModuleInit, OnModuleDestroy {
  private unsubscribe: Array<() => void> = [];

  constructor(
    private readonly gateway: DiscordGateway,
    private readonly images: MessageImageService,
    private readonly catchUp: MessageCatchUp,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = [
      this.gateway.onDispatch((packet) => this.images.recordDispatch(packet)),
      this.gateway.on('shardReady', (shardId) => this.catchUp.shardReady(shardId)),
    ];
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }
}
