import { DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { enabledFeatures, type AppConfig } from '../../config/config';
import { BuildMessage, BuildMessageSchema } from '../../drone/build-message.schema';
import { HealthModule } from '../../health/health.module';
import { NOTIFICATION_MODELS } from '../../notify/notification.schema';
import { NotificationStore } from '../../notify/notification.store';
import { RenderModule } from '../../render/render.module';
import { StorageModule } from '../../storage/storage.module';
import { BuildRecords } from './build-records';
import { CommandAccess } from './command-access';
import { CommandRegistrar } from './command-registrar';
import { HeraldCommandsService } from './herald-commands.service';
import { RepositoryAutocomplete, commandHandlers } from './herald.commands';
import { InteractionReplies } from './interaction-replies';
import { MessageImageCommandService } from './message-image-command.service';

/**
 * The bot's application commands (DISCORD_COMMANDS): `/herald status | build | notify-status` and, where S3 is
 * configured, the "Render as image" message command. Imported by DiscordBotModule; necord (logged in there) finds the
 * handlers among the application's providers. It reads Drone's and Notify's records (read-only) to answer about them.
 */
@Module({})
export class DiscordCommandsModule {
  static register(config: AppConfig): DynamicModule {
    const images = enabledFeatures(config).commandImages;
    return {
      module: DiscordCommandsModule,
      imports: [
        HealthModule,
        MongooseModule.forFeature([{ name: BuildMessage.name, schema: BuildMessageSchema }, ...NOTIFICATION_MODELS]),
        ...(images ? [RenderModule, StorageModule] : []),
      ],
      providers: [
        CommandAccess,
        InteractionReplies,
        BuildRecords,
        NotificationStore,
        HeraldCommandsService,
        RepositoryAutocomplete,
        CommandRegistrar,
        ...(images ? [MessageImageCommandService] : []),
        ...commandHandlers({ images }),
      ],
    };
  }
}
