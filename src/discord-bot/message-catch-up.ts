import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { telemetry } from '../telemetry/telemetry';
import { DiscordGateway, type ReadableChannel } from './discord-gateway';
import { MessageImageService } from './message-image.service';
import { MessageImageStore } from './message-image.store';

const readBack = telemetry.counter(
  'herald_discord_catch_up_messages_total',
  "Messages read back over REST after a shard started a new gateway session (each recorded as its create event, or skipped as the gateway's would be)",
);

/**
 * Messages posted while no process of this shard was connected (Herald stopped or restarting, a gateway session
 * Discord could not resume, events held in memory while MongoDB was away when the process was killed): Discord does not
 * send them again, so when a shard starts a new session each watched channel's messages after its latest recorded
 * one are read back over REST, DISCORD_CATCH_UP_LIMIT at most, oldest first, and recorded as the gateway's create
 * events would have been (same key: one that also arrived over the gateway is stored once). A resumed session needs
 * none of this: Discord replays what it missed. Edits and deletes of older messages made meanwhile are not seen.
 */
@Injectable()
export class MessageCatchUp implements OnApplicationShutdown {
  private readonly logger = new Logger(MessageCatchUp.name);
  /** Shards whose catch-up is running in this process, and those that started another session meanwhile. */
  private readonly running = new Set<number>();
  private readonly again = new Set<number>();
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly gateway: DiscordGateway,
    private readonly store: MessageImageStore,
    private readonly images: MessageImageService,
  ) {}

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  /**
   * A shard started a new session (READY, after its guilds arrived). One that starts another while its catch-up runs
   * is caught up once more afterwards: the channels already read may have missed messages in between.
   */
  async shardReady(shardId: number): Promise<void> {
    const limit = this.config.discord.catchUpLimit;
    if (limit === 0) return;
    if (this.running.has(shardId)) {
      this.again.add(shardId);
      return;
    }
    this.running.add(shardId);
    try {
      do {
        this.again.delete(shardId);
        await this.catchUpShard(shardId, limit);
      } while (this.again.has(shardId) && !this.stopping);
    } finally {
      this.running.delete(shardId);
    }
  }

  private async catchUpShard(shardId: number, limit: number): Promise<void> {
    let read = 0;
    let channels = 0;
    for (const channel of await this.gateway.readableChannels(shardId)) {
      if (this.stopping) return;
      if (!this.watches(channel)) continue;
      channels += 1;
      read += await this.catchUpChannel(channel, limit);
    }
    if (read > 0) this.logger.log({ shardId, channels, messages: read }, 'Caught up on messages posted while the bot was away');
  }

  private watches(channel: ReadableChannel): boolean {
    const allowlist = this.config.discord.channelAllowlist;
    return allowlist.length === 0 || allowlist.includes(channel.channelId) || (channel.parentId !== null && allowlist.includes(channel.parentId));
  }

  /** Answers how many messages it read back; a channel Discord will not read to us is left for the next session. */
  private async catchUpChannel(channel: ReadableChannel, limit: number): Promise<number> {
    const ids = { guildId: channel.guildId, channelId: channel.channelId };
    let after: string | null;
    try {
      after = await this.store.newestIn(channel.channelId);
    } catch (error) {
      this.logger.warn({ ...ids, reason: describe(error) }, 'Could not look up where to catch up on a channel; skipped until the next session');
      return 0;
    }
    // A channel with no recorded message: nothing Herald saw there, so nothing it missed after it.
    if (after === null) return 0;
    let read = 0;
    let more = false;
    /** Whether the last page asked for one message past the limit (and so answered whether there are more). */
    let lookedPast = false;
    while (read < limit && !this.stopping) {
      const room = limit - read;
      // One more than there is room for, where a page allows: when it comes, more were missed than the limit reads.
      const wanted = Math.min(100, room + 1);
      lookedPast = wanted > room;
      let page;
      try {
        page = await this.gateway.messagesAfter(channel.channelId, after, wanted);
      } catch (error) {
        this.logger.warn(
          { ...ids, after, reason: describe(error) },
          "Could not read back a channel's missed messages; skipped until the next session",
        );
        return read;
      }
      const taken = page.slice(0, room);
      for (const message of taken) {
        await this.images.recordMissed(message, channel.guildId);
        readBack.inc();
      }
      read += taken.length;
      after = taken.at(-1)?.id ?? after;
      more = page.length > taken.length;
      if (more || page.length < wanted) break;
    }
    // The limit filled by a page that had no room to look further: one message more tells.
    if (read >= limit && !lookedPast && !this.stopping) {
      more = (await this.gateway.messagesAfter(channel.channelId, after, 1).catch(() => [])).length > 0;
    }
    if (more) {
      this.logger.warn(
        { ...ids, limit, lastReadBack: after },
        'More messages were posted in a channel while the bot was away than DISCORD_CATCH_UP_LIMIT; the later ones are not read back',
      );
    }
    return read;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
