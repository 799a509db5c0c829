import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { createClient } from '@redis/client';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ReadinessService } from '../health/readiness.service';
import { VK_ROUTES, type VkRouting } from './vk-routes';

const CONNECT_TIMEOUT_MS = 5000;
const COMMAND_TIMEOUT_MS = 5000;
const MAX_RECONNECT_DELAY_MS = 2000;

type RedisClient = ReturnType<typeof createClient>;

/** The fields of one stream entry: the Event JSON plus its id and type, so a consumer can filter without parsing. */
export interface VkStreamEntry {
  event: string;
  event_id: string;
  event_type: string;
}

/**
 * Redis for the VK router (node-redis): PUBLISH on a channel or XADD to a capped stream. One client that reconnects on
 * its own with a capped exponential backoff. While the link is down a command fails at once instead of waiting in an
 * offline queue, so the outbox records the failure and retries the delivery with its own backoff, in order per peer.
 */
@Injectable()
export class VkRedisPublisher implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(VkRedisPublisher.name);
  private client?: RedisClient;
  /** Logs a lost link once per outage, not once per reconnect attempt. */
  private linkDown = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(VK_ROUTES) private readonly routing: VkRouting,
    private readonly readiness: ReadinessService,
  ) {}

  onModuleInit(): void {
    // Routing refuses routes to Redis without REDIS_URL; a redis destination no route uses needs no link.
    if (!this.config.redis.url || ![...this.routing.destinations.values()].some((destination) => destination.type === 'redis')) return;
    // Optional: while Redis is away the outbox keeps the events, so the service is degraded, not down.
    this.readiness.register({ name: 'redis', required: false, check: () => this.ping() });
    this.connected();
  }

  /** PUBLISH; resolves with how many subscribers received it (0 is still a delivery: pub/sub keeps nothing). */
  async publish(channel: string, body: string): Promise<number> {
    return this.withTimeout().publish(channel, body);
  }

  /** XADD <key> MAXLEN ~ <maxLen> * event <json> event_id <id> event_type <type>; resolves with the entry id. */
  async append(key: string, maxLen: number, entry: VkStreamEntry): Promise<string> {
    return this.withTimeout().xAdd(key, '*', { ...entry }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: maxLen } });
  }

  async ping(): Promise<void> {
    await this.withTimeout().ping();
  }

  /** After every module's onModuleDestroy, i.e. once the outbox has drained the deliveries in flight. */
  async beforeApplicationShutdown(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (!client.isReady) {
      client.destroy();
      return;
    }
    try {
      await client.close();
    } catch {
      client.destroy();
    }
  }

  /** A command that does not answer within COMMAND_TIMEOUT_MS fails (and is retried by the outbox). */
  private withTimeout(): RedisClient {
    return this.connected().withAbortSignal(AbortSignal.timeout(COMMAND_TIMEOUT_MS));
  }

  private connected(): RedisClient {
    if (this.client) return this.client;
    const url = this.config.redis.url;
    if (!url) throw new Error('REDIS_URL is not set');
    // Loaded on first use: @redis/client costs ~5 MiB of heap (amqplib ~2.5) in every process that imports the VK
    // module, whether it routes to Redis or not (a bot pod holds the VK code too, its role being off).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const redis = require('@redis/client') as typeof import('@redis/client');
    const client: RedisClient = redis.createClient({
      url,
      name: 'herald-vk',
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries) => Math.min(2 ** retries * 50, MAX_RECONNECT_DELAY_MS) + Math.floor(Math.random() * 100),
      },
    });
    client.on('error', (error: Error) => {
      if (this.linkDown) return;
      this.linkDown = true;
      this.logger.warn({ err: error.message }, 'Redis link lost; reconnecting, deliveries are retried meanwhile');
    });
    client.on('ready', () => {
      this.logger.log(this.linkDown ? 'Redis link back' : 'Connected to Redis');
      this.linkDown = false;
    });
    // Never rejects while the client is open: it keeps reconnecting (reconnectStrategy) until Redis answers.
    client.connect().catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'Redis client stopped connecting'));
    this.client = client;
    return client;
  }
}
