import { Injectable } from '@nestjs/common';
import { On } from 'necord';
import { PresenceService } from './presence.service';

/** A new gateway session starts without presence; set it as soon as the shard is ready. */
@Injectable()
export class DiscordPresenceUpdate {
  constructor(private readonly presence: PresenceService) {}

  @On('shardReady')
  onShardReady(): void {
    this.presence.reapply();
  }
}
