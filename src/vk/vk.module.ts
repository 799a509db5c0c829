import { DynamicModule, Logger, Module, type Provider } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth/auth.module';
import { enabledFeatures, type AppConfig } from '../config/config';
import { DiscordApiModule } from '../discord-api/discord-api.module';
import { HealthModule } from '../health/health.module';
import { VkAmqpPublisher } from './vk-amqp.publisher';
import { VkApi } from './vk-api';
import { VkDeliveriesService } from './vk-deliveries.service';
import { VkDeliverySender } from './vk-delivery.sender';
import { VkDirectory } from './vk-directory';
import { VkDispatcher } from './vk-dispatcher';
import { VkLease } from './vk-lease';
import { VkOutbox } from './vk-outbox';
import { VkPoller } from './vk-poller';
import { VkRedisPublisher } from './vk-redis.publisher';
import { VK_ROUTES, loadVkRouting, type VkRouting } from './vk-routes';
import { VkWebhookClient } from './vk-webhook.client';
import { VkDelivery, VkDeliverySchema, VkPollerState, VkPollerStateSchema, VkStoredEvent, VkStoredEventSchema } from './vk.schemas';
import { VkController } from './vk.controller';

/**
 * VK community events: GET /vk/routes and the delivery outbox endpoints wherever VK is configured; the Bots Long
 * Poll poller and the outbox dispatcher only in processes with the `vk` role, and of those only in the one that
 * holds the community's lease in MongoDB (see VkLease).
 */
@Module({})
export class VkModule {
  static register(config: AppConfig): DynamicModule {
    const poller = enabledFeatures(config).vkPoller;
    const routing: Provider = {
      provide: VK_ROUTES,
      useFactory: (): VkRouting => {
        const loaded = loadVkRouting(config);
        new Logger(VkModule.name).log(
          { source: loaded.source ?? 'default', destinations: loaded.destinations.size, routes: loaded.routes.length },
          'VK routes loaded',
        );
        return loaded;
      },
    };
    return {
      module: VkModule,
      imports: [
        AuthModule,
        DiscordApiModule,
        HealthModule,
        MongooseModule.forFeature([
          { name: VkPollerState.name, schema: VkPollerStateSchema },
          { name: VkStoredEvent.name, schema: VkStoredEventSchema },
          { name: VkDelivery.name, schema: VkDeliverySchema },
        ]),
      ],
      controllers: [VkController],
      providers: [
        routing,
        VkOutbox,
        VkDeliveriesService,
        ...(poller
          ? [VkApi, VkDirectory, VkLease, VkAmqpPublisher, VkRedisPublisher, VkWebhookClient, VkDeliverySender, VkDispatcher, VkPoller]
          : []),
      ],
    };
  }
}
