import { DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { NecordModule } from 'necord';
import type { AppConfig } from '../config/config';
import { BackendCallbackWorker } from './backend-callback.worker';
import { BackendClient } from './backend-client';
import { BOT_INTENTS, BOT_PARTIALS, clientSharding } from './discord-client-options';
import { DiscordGateway } from './discord-gateway';
import { DiscordMessagesUpdate } from './discord-messages.update';
import { DiscordPresenceUpdate } from './discord-presence.update';
import { DiscordReadiness } from './discord-readiness';
import { MessageImage, MessageImageSchema } from './message-image.schema';
import { MessageImageService } from './message-image.service';
import { MessageImageStore } from './message-image.store';
import { MessageImageWorker } from './message-image.worker';
import { PresenceService } from './presence.service';

/** The Discord bot: every message in the watched channels kept as an image in S3, and the backend told. */
@Module({})
export class DiscordModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: DiscordModule,
      imports: [
        NecordModule.forRoot({
          token: config.discord.token ?? '',
          intents: BOT_INTENTS,
          partials: BOT_PARTIALS,
          rest: { api: config.discord.apiUrl, cdn: config.discord.cdnUrl },
          ...clientSharding(config.discord.sharding),
          // Herald has no slash commands; registering none would still PUT an empty list on every start.
          skipRegistration: true,
        }),
        MongooseModule.forFeature([{ name: MessageImage.name, schema: MessageImageSchema }]),
      ],
      providers: [
        DiscordGateway,
        MessageImageStore,
        MessageImageWorker,
        MessageImageService,
        BackendClient,
        BackendCallbackWorker,
        PresenceService,
        DiscordReadiness,
        DiscordMessagesUpdate,
        DiscordPresenceUpdate,
      ],
    };
  }
}
