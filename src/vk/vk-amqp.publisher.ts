import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { ReadinessService } from '../health/readiness.service';
import { VK_ROUTES, type VkRouting } from './vk-routes';

const CONNECT_TIMEOUT_MS = 5000;
const CONFIRM_TIMEOUT_MS = 15_000;

export interface AmqpMessageProperties {
  messageId: string;
  type: string;
}

interface Link {
  connection: ChannelModel;
  channel: ConfirmChannel;
}

/**
 * RabbitMQ for the VK router: durable queues, persistent JSON messages, publisher confirms. One connection, opened
 * on first use and dropped when it breaks; the outbox retries, so there is no reconnect loop here.
 */
@Injectable()
export class VkAmqpPublisher implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(VkAmqpPublisher.name);
  private link?: Promise<Link>;
  /** The connection `link` resolved to; a late 'close' from an older one must not drop a newer link. */
  private current?: ChannelModel;
  private readonly declared = new Set<string>();
  private closing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(VK_ROUTES) private readonly routing: VkRouting,
    private readonly readiness: ReadinessService,
  ) {}

  onModuleInit(): void {
    if (![...this.routing.destinations.values()].some((destination) => destination.type === 'amqp')) return;
    // Optional: while RabbitMQ is away the outbox keeps the events, so the service is degraded, not down.
    this.readiness.register({ name: 'rabbitmq', required: false, check: () => this.ping() });
  }

  /** Resolves once the broker confirmed the message is in the queue (persisted, for a durable queue). */
  async publish(queue: string, body: Buffer, properties: AmqpMessageProperties): Promise<void> {
    const { channel } = await this.connected();
    if (!this.declared.has(queue)) {
      await channel.assertQueue(queue, { durable: true });
      this.declared.add(queue);
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`RabbitMQ did not confirm within ${CONFIRM_TIMEOUT_MS} ms`)), CONFIRM_TIMEOUT_MS);
      channel.sendToQueue(
        queue,
        body,
        {
          persistent: true,
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          messageId: properties.messageId,
          type: properties.type,
          timestamp: Math.floor(Date.now() / 1000),
          appId: 'herald',
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (error) reject(error instanceof Error ? error : new Error(`RabbitMQ rejected the message: ${JSON.stringify(error)}`));
          else resolve();
        },
      );
    });
  }

  /** For readiness: connects if needed. */
  async ping(): Promise<void> {
    await this.connected();
  }

  /** After every module's onModuleDestroy, i.e. once the outbox has drained the deliveries in flight. */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    const link = this.link;
    this.link = undefined;
    if (!link) return;
    try {
      const { connection } = await link;
      await connection.close();
    } catch {
      // already gone
    }
  }

  private connected(): Promise<Link> {
    if (this.closing) return Promise.reject(new Error('shutting down'));
    this.link ??= this.open().catch((error: unknown) => {
      this.link = undefined;
      throw error;
    });
    return this.link;
  }

  private async open(): Promise<Link> {
    const url = this.config.amqp.url;
    if (!url) throw new Error('AMQP_URL is not set');
    // Loaded on first use (as @redis/client in VkRedisPublisher): a process with no RabbitMQ route never loads it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { connect } = require('amqplib') as typeof import('amqplib');
    const connection = await connect(url, { timeout: CONNECT_TIMEOUT_MS, clientProperties: { connection_name: 'herald-vk' } });
    const forget = (reason: string) => (error?: Error) => {
      if (this.closing || this.current !== connection) return;
      this.current = undefined;
      this.logger.warn({ reason, err: error?.message }, 'RabbitMQ link lost; the next delivery reconnects');
      this.link = undefined;
      this.declared.clear();
    };
    connection.on('error', () => undefined); // 'close' follows and carries the handling
    connection.on('close', forget('connection closed'));
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', () => undefined);
      channel.on('close', forget('channel closed'));
      this.current = connection;
      this.logger.log('Connected to RabbitMQ');
      return { connection, channel };
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }
}
