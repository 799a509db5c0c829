import { Inject, Injectable } from '@nestjs/common';
import { DiscordRest, describeDiscordError, isPermanentDiscordError } from '../discord-api/discord-rest';
import { VkAmqpPublisher } from './vk-amqp.publisher';
import { bridgeLine } from './vk-bridge-message';
import { DeliveryFailure } from './vk-delivery-failure';
import type { VkEvent } from './vk-event';
import { VkRedisPublisher } from './vk-redis.publisher';
import { VK_ROUTES, redisKey, type VkDestination, type VkRouting } from './vk-routes';
import { VkWebhookClient } from './vk-webhook.client';

/** Sends one event to one named destination; every failure surfaces as a DeliveryFailure (permanent or not). */
@Injectable()
export class VkDeliverySender {
  constructor(
    @Inject(VK_ROUTES) private readonly routing: VkRouting,
    private readonly amqp: VkAmqpPublisher,
    private readonly redis: VkRedisPublisher,
    private readonly webhooks: VkWebhookClient,
    private readonly discord: DiscordRest,
  ) {}

  destinationNames(): string[] {
    return [...this.routing.destinations.keys()];
  }

  destination(name: string): VkDestination | undefined {
    return this.routing.destinations.get(name);
  }

  async send(destinationName: string, event: VkEvent, deliveryId: string): Promise<void> {
    const destination = this.routing.destinations.get(destinationName);
    // The routes file changed since the event was routed and this destination is gone.
    if (!destination) throw new DeliveryFailure(`no destination named "${destinationName}" in the current routes`, true);
    const body = JSON.stringify(event);
    switch (destination.type) {
      case 'amqp':
        try {
          await this.amqp.publish(destination.queue, Buffer.from(body), { messageId: event.event_id, type: event.event_type });
        } catch (error) {
          throw new DeliveryFailure(`RabbitMQ queue ${destination.queue}: ${(error as Error).message}`, false);
        }
        return;
      case 'redis': {
        const key = redisKey(destination, event.event_type);
        try {
          if (destination.mode === 'publish') await this.redis.publish(key, body);
          else await this.redis.append(key, destination.maxLen, { event: body, event_id: event.event_id, event_type: event.event_type });
        } catch (error) {
          throw new DeliveryFailure(`Redis ${destination.mode === 'publish' ? 'channel' : 'stream'} ${key}: ${(error as Error).message}`, false);
        }
        return;
      }
      case 'http':
        return this.webhooks.post(destination.url, destination.secret, body, {
          'x-herald-event-id': event.event_id,
          'x-herald-event-type': event.event_type,
          'x-herald-delivery-id': deliveryId,
        });
      case 'discord': {
        if (!this.discord.configured) throw new DeliveryFailure('Discord is off (DISCORD_TOKEN is not set)', true);
        try {
          // A run cut off after Discord took the message runs again: the nonce makes Discord hand back the first message.
          await this.discord.createMessage(destination.channelId, {
            content: bridgeLine(event),
            allowed_mentions: { parse: [] },
            nonce: deliveryId.slice(0, 25),
            enforce_nonce: true,
          });
        } catch (error) {
          throw new DeliveryFailure(describeDiscordError(error), isPermanentDiscordError(error));
        }
        return;
      }
    }
  }
}
