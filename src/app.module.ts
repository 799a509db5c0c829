import { DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { LoggerModule } from 'nestjs-pino';
import { BrowserModule } from './browser/browser.module';
import { loggerParams } from './common/logging';
import { AppConfig, enabledFeatures } from './config/config';
import { ConfigModule } from './config/config.module';
import { DiscordRestModule } from './discord/discord-rest.module';
import { DiscordModule } from './discord/discord.module';
import { DroneModule } from './drone/drone.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotifyModule } from './notify/notify.module';
import { RenderModule } from './render/render.module';
import { StorageModule } from './storage/storage.module';
import { VkModule } from './vk/vk.module';

/** Why a feature is off, one line each, logged once at start-up. */
export function disabledFeatureReasons(config: AppConfig): string[] {
  const features = enabledFeatures(config);
  const reasons: string[] = [];
  if (!features.discordRest) reasons.push('Discord is off: DISCORD_TOKEN is not set (no bot, no Drone messages, no /notify)');
  else if (!features.discordBot) reasons.push('Discord bot is off in this process: HERALD_ROLES has no "discord"');
  if (features.discordRest && !features.drone) reasons.push('Drone is off: DRONE_WEBHOOK_SECRET is not set');
  if (!features.vk) reasons.push('VK is off: VK_TOKEN and VK_GROUP_ID are not both set');
  else if (!features.vkPoller) reasons.push('VK poller is off in this process: HERALD_ROLES has no "vk"');
  if (!features.backend) reasons.push('Backend callbacks are off: BACKEND_URL is not set');
  return reasons;
}

/** Settings that work but deserve a second look, one line each, logged once at start-up. */
export function startupWarnings(config: AppConfig): string[] {
  const warnings: string[] = [];
  if (config.backend.url && config.backend.token === config.auth.systemToken) {
    warnings.push(
      'BACKEND_TOKEN is the same as SYSTEM_TOKEN: whoever runs the backend can call every Herald endpoint with it; give the backend a token of its own',
    );
  }
  return warnings;
}

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    const features = enabledFeatures(config);
    const imports: DynamicModule['imports'] = [
      ConfigModule.forRoot(config),
      LoggerModule.forRoot(loggerParams(config)),
      MongooseModule.forRoot(config.mongo.uri, {
        serverSelectionTimeoutMS: 5000,
        connectTimeoutMS: 5000,
        autoIndex: true,
      }),
      StorageModule,
      BrowserModule,
      HealthModule,
    ];
    if (features.discordRest) imports.push(DiscordRestModule);
    if (features.render) imports.push(RenderModule.register(config));
    if (features.discordBot) imports.push(DiscordModule.register(config));
    if (features.drone) imports.push(DroneModule.register(config));
    if (features.notify) imports.push(NotifyModule.register(config));
    if (features.metrics) imports.push(MetricsModule.register(config));
    if (features.vk) imports.push(VkModule.register(config));
    return { module: AppModule, imports };
  }
}
