import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ReadinessService } from '../health/readiness.service';
import { BackendCallbacks } from '../backend/backend-callbacks';
import { DiscordGateway } from './discord-gateway';

/** Callbacks failed in a row (in this process) after which the backend counts as degraded. */
const FAILING_AFTER = 3;

/**
 * The gateway's contribution to /health/ready. Optional: a gateway reconnecting degrades the service (presence idle)
 * without making the HTTP API unready.
 */
@Injectable()
export class DiscordReadiness implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly readiness: ReadinessService,
    private readonly gateway: DiscordGateway,
  ) {}

  onModuleInit(): void {
    this.readiness.register({
      name: 'discord',
      required: false,
      check: async () => {
        const notLoggedIn = this.gateway.notLoggedInBecause;
        if (notLoggedIn) throw new Error(notLoggedIn);
        const shards = this.gateway.shards();
        const down = shards.filter((shard) => !shard.ready);
        if (down.length) {
          const count = this.config.discord.sharding.count;
          throw new Error(
            down.map((shard) => `shard ${shard.id}${count === 'auto' ? '' : ` of ${count}`} not connected (${shard.status})`).join('; '),
          );
        }
      },
    });
  }
}

/** With message images and BACKEND_URL: a backend that keeps refusing callbacks degrades the service (optional). */
@Injectable()
export class MessageImagesReadiness implements OnModuleInit {
  constructor(
    private readonly readiness: ReadinessService,
    private readonly callbacks: BackendCallbacks,
  ) {}

  onModuleInit(): void {
    if (!this.callbacks.enabled) return;
    this.readiness.register({
      name: 'backend',
      required: false,
      check: () => {
        const failing = this.callbacks.consecutiveFailures;
        if (failing >= FAILING_AFTER) return Promise.reject(new Error(`the last ${failing} backend callbacks failed`));
        return Promise.resolve();
      },
    });
  }
}
