import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DiscordGateway } from './discord-gateway';
import { PresenceService } from './presence.service';

/** A new gateway session starts without presence; set it as soon as the shard is ready (see DiscordMessagesUpdate on why not @On). */
@Injectable()
export class DiscordPresenceUpdate implements OnModuleInit, OnModuleDestroy {
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly gateway: DiscordGateway,
    private readonly presence: PresenceService,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.gateway.on('shardReady', (shardId) => this.presence.reapply(shardId));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
