import { DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { NecordModule } from 'necord';
import { BackendModule } from '../backend/backend.module';
import { enabledFeatures, type AppConfig } from '../config/config';
import { HealthModule } from '../health/health.module';
import { RenderModule } from '../render/render.module';
import { OutboxModule } from '../outbox/outbox.module';
import { StorageModule } from '../storage/storage.module';
import { DiscordCommandsModule } from './commands/discord-commands.module';
import { BOT_INTENTS, BOT_MESSAGE_CACHE, BOT_PARTIALS, PRESENCE_INTENTS, clientSharding } from './discord-client-options';
import { DiscordGateway } from './discord-gateway';
import { DiscordMessagesUpdate } from './discord-messages.update';
import { DiscordPresenceUpdate } from './discord-presence.update';
import { DiscordReadiness, MessageImagesReadiness } from './discord-readiness';
import { MessageCatchUp } from './message-catch-up';
import { MessageImage, MessageImageSchema } from './message-image.schema';
import { MessageImageService } from './message-image.service';
import { MessageImageStore } from './message-image.store';
import { PresenceService } from './presence.service';

/**
 * The Discord bot: one gateway session per shard this process holds (DISCORD_SHARDS), showing Herald's health as its presence. With DISCORD_RENDER_MESSAGES (or a
 * channel allowlist) it also keeps every message of the watched channels as an image in S3 and tells the backend;
 * only then does it ask for the Message Content intent, S3 and the browser. Images and callbacks are outbox jobs
 * (queues `discord-images` and `backend`), one lane per message.
 */
@Module({})
export class DiscordBotModule {
  static register(config: AppConfig): DynamicModule {
    const messageImages = enabledFeatures(config).messageImages;
    const gateway = NecordModule.forRoot({
      token: config.discord.token ?? '',
      intents: messageImages ? BOT_INTENTS : PRESENCE_INTENTS,
      partials: BOT_PARTIALS,
      ...BOT_MESSAGE_CACHE,
      rest: { api: config.discord.apiUrl, cdn: config.discord.cdnUrl },
      ...clientSharding(config.discord.sharding),
      // DiscordCommandsModule registers the commands itself, sending only what changed (necord would PUT every start).
      skipRegistration: true,
    });
    const presence = [DiscordGateway, PresenceService, DiscordPresenceUpdate, DiscordReadiness];
    const commands = enabledFeatures(config).discordCommands ? [DiscordCommandsModule.register(config)] : [];
    if (!messageImages) return { module: DiscordBotModule, imports: [gateway, HealthModule, ...commands], providers: presence };
    return {
      module: DiscordBotModule,
      imports: [
        gateway,
        HealthModule,
        ...commands,
        RenderModule,
        StorageModule,
        BackendModule,
        OutboxModule,
        MongooseModule.forFeature([{ name: MessageImage.name, schema: MessageImageSchema }]),
      ],
      providers: [...presence, MessageImageStore, MessageImageService, MessageCatchUp, MessageImagesReadiness, DiscordMessagesUpdate],
    };
  }
}
