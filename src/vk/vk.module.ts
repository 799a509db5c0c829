import { DynamicModule, Logger, Module, type Provider } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth/auth.module';
import { ConfigError, enabledFeatures, type AppConfig } from '../config/config';
import { DiscordApiModule } from '../discord-api/discord-api.module';
import { HealthModule } from '../health/health.module';
import { OutboxModule } from '../outbox/outbox.module';
import { VkAmqpPublisher } from './vk-amqp.publisher';
import { VkApi } from './vk-api';
import { VkDeliveries } from './vk-deliveries';
import { VkDeliveriesView } from './vk-deliveries.view';
import { VkDeliverySender } from './vk-delivery.sender';
import { VkDirectory } from './vk-directory';
import { VkLease } from './vk-lease';
import { VkPoller } from './vk-poller';
import { VkReader } from './vk-reader';
import { VkRedisPublisher } from './vk-redis.publisher';
import { VK_ROUTES, VkRoutesError, loadVkRouting, type VkRouting } from './vk-routes';
import { VkWebhookClient } from './vk-webhook.client';
import { VkPollerLease, VkPollerLeaseSchema } from './vk.schemas';
import { VkController } from './vk.controller';

/**
 * VK community events: GET /vk/routes and the delivery endpoints wherever VK is configured; the Bots Long Poll poller
 * (only in the one replica that holds the community's lease, see VkLease) and the delivery handler of the outbox's
 * `vk` queue (in every replica) in processes with the `vk` role.
 */
@Module({})
export class VkModule {
  static register(config: AppConfig): DynamicModule {
    const poller = enabledFeatures(config).vkPoller;
    const routing: Provider = {
      provide: VK_ROUTES,
      useFactory: (): VkRouting => {
        // A routes problem is a configuration problem: start-up ends with exit code 78 naming each one.
        let loaded: VkRouting;
        try {
          loaded = loadVkRouting(config);
        } catch (error) {
          if (error instanceof VkRoutesError) throw new ConfigError(error.problems);
          throw error;
        }
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
        OutboxModule,
        MongooseModule.forFeature([{ name: VkPollerLease.name, schema: VkPollerLeaseSchema }]),
      ],
      controllers: [VkController],
      providers: [
        routing,
        VkDeliveriesView,
        ...(poller
          ? [VkApi, VkDirectory, VkReader, VkLease, VkAmqpPublisher, VkRedisPublisher, VkWebhookClient, VkDeliverySender, VkDeliveries, VkPoller]
          : []),
      ],
    };
  }
}
