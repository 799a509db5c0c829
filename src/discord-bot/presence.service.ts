import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { PresenceStatusData } from 'discord.js';
import { APP_CONFIG, AppConfig } from '../config/config';
import { ReadinessService, type ReadinessReport } from '../health/readiness.service';
import { DiscordGateway } from './discord-gateway';
import { errorMessage } from '../common/errors';

export interface BotPresence {
  status: PresenceStatusData;
  text: string;
}

/** Discord cuts custom status text at 128 characters. */
const MAX_TEXT = 128;

/** online when every check passes, idle when an optional one fails, dnd when a required one does. */
export function presenceFor(report: Pick<ReadinessReport, 'status' | 'failed'>, upText = 'All systems up'): BotPresence {
  const failed = report.failed.join(', ');
  const shorten = (text: string): string => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);
  if (report.status === 'up') return { status: 'online', text: upText };
  if (report.status === 'degraded') return { status: 'idle', text: shorten(`Degraded: ${failed}`) };
  return { status: 'dnd', text: shorten(`Down: ${failed}`) };
}

/** Shows the service's readiness as the bot's presence, so people in Discord see when Herald is in trouble. */
@Injectable()
export class PresenceService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PresenceService.name);
  private timer: NodeJS.Timeout | null = null;
  /** What each shard shows now; a shard's presence is its own in Discord (sent on its own connection). */
  private readonly shown = new Map<number, string>();
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly readiness: ReadinessService,
    private readonly gateway: DiscordGateway,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.refresh(), this.config.discord.presenceIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** After a fresh gateway session Discord has forgotten the shard's presence: send it again now. */
  reapply(shardId: number): void {
    this.shown.delete(shardId);
    void this.refresh();
  }

  async refresh(): Promise<void> {
    if (!this.gateway.isConnected()) return;
    try {
      const report = await this.readiness.check();
      const presence = presenceFor(report, this.config.discord.renderMessages ? 'Rendering messages' : 'All systems up');
      const key = `${presence.status}|${presence.text}`;
      for (const shard of this.gateway.shards()) {
        // Discord limits gateway sends; only a change is worth one. The checks take a while: the connection may
        // have gone (or the app stopped) meanwhile, and discord.js would then fail the send without telling us.
        if (key === this.shown.get(shard.id) || this.stopped || !this.gateway.isShardReady(shard.id)) continue;
        this.gateway.setPresence(shard.id, presence.status, presence.text);
        this.shown.set(shard.id, key);
        this.logger.log(
          { shardId: shard.id, status: presence.status, failed: report.failed },
          `Presence of shard ${shard.id} set to ${presence.status}`,
        );
      }
    } catch (error) {
      this.logger.warn({ reason: errorMessage(error) }, 'Could not update presence');
    }
  }
}
