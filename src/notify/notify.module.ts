import { DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth/auth.module';
import type { AppConfig } from '../config/config';
import { DiscordApiModule } from '../discord-api/discord-api.module';
import { HealthModule } from '../health/health.module';
import { OutboxModule } from '../outbox/outbox.module';
import { NotificationSender } from './notification-sender';
import { NOTIFICATION_MODELS } from './notification.schema';
import { NotificationStore } from './notification.store';
import { NotifyController } from './notify.controller';
import { NotifyService } from './notify.service';

/** POST /notify and its Discord jobs on the outbox. Imported only when the API role runs and DISCORD_TOKEN is set. */
@Module({})
export class NotifyModule {
  static register(_config: AppConfig): DynamicModule {
    return {
      module: NotifyModule,
      imports: [AuthModule, DiscordApiModule, HealthModule, OutboxModule, MongooseModule.forFeature(NOTIFICATION_MODELS)],
      controllers: [NotifyController],
      providers: [NotificationStore, NotificationSender, NotifyService],
    };
  }
}
