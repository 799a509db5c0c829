import { DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { AppConfig } from '../config/config';
import { DiscordApiModule } from '../discord-api/discord-api.module';
import { NotificationDeliveryWorker } from './notification-delivery.worker';
import { NOTIFICATION_MODELS } from './notification.schema';
import { NotificationStore } from './notification.store';
import { NotifyController } from './notify.controller';
import { NotifyService } from './notify.service';

/** POST /notify and its delivery worker. Imported only when the API role runs and DISCORD_TOKEN is set. */
@Module({})
export class NotifyModule {
  static register(_config: AppConfig): DynamicModule {
    return {
      module: NotifyModule,
      imports: [DiscordApiModule, MongooseModule.forFeature(NOTIFICATION_MODELS)],
      controllers: [NotifyController],
      providers: [NotificationStore, NotificationDeliveryWorker, NotifyService],
    };
  }
}
