import { DynamicModule, Module, type Type } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { LoggerModule } from 'nestjs-pino';
import { FeatureOffModule } from './common/feature-off.module';
import { loggerParams } from './common/logging';
import { AppConfig, describeFeatures, type FeatureState } from './config/config';
import { ConfigModule } from './config/config.module';
import { DiscordBotModule } from './discord-bot/discord-bot.module';
import { DroneController } from './drone/drone.controller';
import { DroneModule } from './drone/drone.module';
import { HealthModule } from './health/health.module';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsModule } from './metrics/metrics.module';
import { NotifyController } from './notify/notify.controller';
import { NotifyModule } from './notify/notify.module';
import { RenderApiModule } from './render/render-api.module';
import { RenderController } from './render/render.controller';
import { TelemetryModule } from './telemetry/telemetry.module';
import { VkController } from './vk/vk.controller';
import { VkModule } from './vk/vk.module';

interface Feature {
  /** The module that runs the feature, with everything it uses imported by it. */
  module(config: AppConfig): DynamicModule | Type;
  /** Its HTTP endpoints: documented and answering 503 (naming the setting) in a process where it is off. */
  controllers: Type[];
}

/** Every feature by the name `describeFeatures` gives it; `message-images` lives inside the bot's module. */
const FEATURES: Record<string, Feature> = {
  'discord-bot': { module: (config) => DiscordBotModule.register(config), controllers: [] },
  drone: { module: (config) => DroneModule.register(config), controllers: [DroneController] },
  notify: { module: (config) => NotifyModule.register(config), controllers: [NotifyController] },
  render: { module: () => RenderApiModule, controllers: [RenderController] },
  metrics: { module: () => MetricsModule, controllers: [MetricsController] },
  vk: { module: (config) => VkModule.register(config), controllers: [VkController] },
};

/** The one start-up line: which features run, on what, and which setting turned each on or would. */
export function featureSummary(states: FeatureState[]): string {
  const on = states.filter((state) => state.on).map((state) => `${state.name} (${state.because}; uses ${state.uses.join(', ')})`);
  const off = states.filter((state) => !state.on).map((state) => `${state.name} (${state.because})`);
  return `Features on: ${on.join('; ') || 'none'}. Off: ${off.join('; ') || 'none'}.`;
}

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    const imports: DynamicModule['imports'] = [
      ConfigModule.forRoot(config),
      LoggerModule.forRoot(loggerParams(config)),
      MongooseModule.forRoot(config.mongo.uri, {
        serverSelectionTimeoutMS: 5000,
        connectTimeoutMS: 5000,
        autoIndex: true,
      }),
      HealthModule,
      TelemetryModule,
    ];
    for (const state of describeFeatures(config)) {
      const feature = FEATURES[state.name];
      if (!feature) continue;
      if (state.on) imports.push(feature.module(config));
      else if (feature.controllers.length) imports.push(FeatureOffModule.register({ feature: state.name, reason: state.because, controllers: feature.controllers }));
    }
    return { module: AppModule, imports };
  }
}
