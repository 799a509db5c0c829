import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { GatewayDispatchEvents, SnowflakeUtil, type APIMessage, type GatewayDispatchPayload } from 'discord.js';
import { errorMessage } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config/config';
import { telemetry } from '../telemetry/telemetry';
import { DiscordGateway, type ReadableChannel } from './discord-gateway';
import { allowlistAdmits, MessageImageService } from './message-image.service';
import { MessageImageStore } from './message-image.store';

const readBack = telemetry.counter(
  'herald_discord_catch_up_events_total',
  "Events the gateway never delivered, read back over REST after a shard started a new session, by event (each recorded as the gateway's would be)",
  ['event'],
);

/** How many of a channel's latest messages, up to its latest record, are compared with their records. */
const LOOK_BACK = 100;

/**
 * What happened while no process of this shard was connected (Herald stopped or restarting, a gateway session Discord
 * could not resume, events held in memory while MongoDB was away when the process was killed): Discord does not send
 * it again, so when a shard starts a new session each watched channel is read back over REST from its latest recorded
 * message. The messages posted after it (DISCORD_CATCH_UP_LIMIT at most, oldest first) are recorded as creates; the
 * LOOK_BACK messages up to it are compared with their records, and a recorded message missing from them is recorded
 * as deleted, one edited later than its record shows as edited. Each event is recorded as the gateway's would have
 * been, under the same key where the gateway's has one. A resumed session needs none of this: Discord replays what it
 * missed. See docs/adr/0007-catch-up-after-a-new-gateway-session.md.
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
    if (read > 0) this.logger.log({ shardId, channels, events: read }, 'Caught up on what happened while the bot was away');
  }

  private watches(channel: ReadableChannel): boolean {
    return allowlistAdmits(this.config, channel.channelId, () => channel.parentId);
  }

  /** Answers how many events it recorded; a channel Discord will not read to us is left for the next session. */
  private async catchUpChannel(channel: ReadableChannel, limit: number): Promise<number> {
    const ids = { guildId: channel.guildId, channelId: channel.channelId };
    let after: string | null;
    try {
      after = await this.store.newestIn(channel.channelId);
    } catch (error) {
      this.logger.warn({ ...ids, reason: errorMessage(error) }, 'Could not look up where to catch up on a channel; skipped until the next session');
      return 0;
    }
    // A channel with no recorded message: nothing Herald saw there, so nothing it missed after it.
    if (after === null) return 0;
    let changed: number;
    try {
      changed = await this.lookBack(channel, after);
    } catch (error) {
      this.logger.warn(
        { ...ids, upTo: after, reason: errorMessage(error) },
        "Could not compare a channel's latest messages with their records; skipped until the next session",
      );
      return 0;
    }
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
        page = await this.gateway.messagesPage(channel.channelId, { after }, wanted);
      } catch (error) {
        this.logger.warn(
          { ...ids, after, reason: errorMessage(error) },
          "Could not read back a channel's missed messages; skipped until the next session",
        );
        return changed + read;
      }
      const taken = page.slice(0, room);
      for (const message of taken) await this.record(GatewayDispatchEvents.MessageCreate, channel, message);
      read += taken.length;
      after = taken.at(-1)?.id ?? after;
      more = page.length > taken.length;
      if (more || page.length < wanted) break;
    }
    // The limit filled by a page that had no room to look further: one message more tells.
    if (read >= limit && !lookedPast && !this.stopping) {
      more = (await this.gateway.messagesPage(channel.channelId, { after }, 1).catch(() => [])).length > 0;
    }
    if (more) {
      this.logger.warn(
        { ...ids, limit, lastReadBack: after },
        'More messages were posted in a channel while the bot was away than DISCORD_CATCH_UP_LIMIT; the later ones are not read back',
      );
    }
    return changed + read;
  }

  /**
   * The channel's latest LOOK_BACK messages up to `newest` (its latest record) against their records: a record whose
   * message is gone was deleted meanwhile; a message edited after what its record shows was edited. Answers how many
   * events it recorded.
   */
  private async lookBack(channel: ReadableChannel, newest: string): Promise<number> {
    const page = await this.gateway.messagesPage(channel.channelId, { before: (BigInt(newest) + 1n).toString() }, LOOK_BACK);
    // Discord answers an empty page to a bot without Read Message History, whatever the channel holds: taken for the
    // channel's history it would delete every image there. A channel whose every message up to the latest record was
    // deleted (a purge) keeps its images until the gateway's deletes or a later session say otherwise.
    if (page.length === 0) return 0;
    // A full page covers from its oldest message on; a shorter one is the channel's whole history up to `newest`.
    const oldest = page.length === LOOK_BACK ? BigInt(page[0].id) : 0n;
    const latest = BigInt(newest);
    const from = new Date(SnowflakeUtil.timestampFrom(oldest));
    const to = new Date(SnowflakeUtil.timestampFrom(latest));
    const shown = (await this.store.shownBetween(channel.channelId, from, to)).filter((record) => {
      const id = BigInt(record.messageId);
      return id >= oldest && id <= latest;
    });
    const present = new Map(page.map((message) => [message.id, message]));
    let recorded = 0;
    for (const record of shown) {
      const message = present.get(record.messageId);
      if (!message) {
        const d = { id: record.messageId, channel_id: channel.channelId, guild_id: channel.guildId };
        await this.recordReadBack({ t: GatewayDispatchEvents.MessageDelete, d } as GatewayDispatchPayload, 'deleted');
        recorded += 1;
      } else if (message.edited_timestamp && (!record.editedAt || new Date(message.edited_timestamp) > new Date(record.editedAt))) {
        await this.record(GatewayDispatchEvents.MessageUpdate, channel, message);
        recorded += 1;
      }
    }
    return recorded;
  }

  private record(
    type: GatewayDispatchEvents.MessageCreate | GatewayDispatchEvents.MessageUpdate,
    channel: ReadableChannel,
    message: APIMessage,
  ): Promise<void> {
    const packet = { t: type, d: { ...message, guild_id: channel.guildId } } as GatewayDispatchPayload;
    return this.recordReadBack(packet, type === GatewayDispatchEvents.MessageCreate ? 'created' : 'edited');
  }

  private async recordReadBack(packet: GatewayDispatchPayload, event: 'created' | 'edited' | 'deleted'): Promise<void> {
    await this.images.recordEvent(packet);
    readBack.inc({ event });
  }
}
