import { DynamicModule, Module, type Type } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import mongoose from 'mongoose';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from './auth/auth.module';
import { FeatureOffModule } from './common/feature-off.module';
import { loggerParams } from './common/logging';
import { AppConfig, describeFeatures, type FeatureState } from './config/config';
import { ConfigModule } from './config/config.module';
import { DiscordBotModule } from './discord-bot/discord-bot.module';
import { DroneController } from './drone/drone.controller';
import { DroneModule } from './drone/drone.module';
import { HealthModule } from './health/health.module';
import { loadDashboards } from './metrics/dashboard-catalog';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsModule } from './metrics/metrics.module';
import { NotifyController } from './notify/notify.controller';
import { NotifyModule } from './notify/notify.module';
import { OutboxController } from './outbox/outbox.controller';
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
  /** Reads and checks the files its settings name, throwing a ConfigError: run before Herald connects to anything. */
  checkFiles?(config: AppConfig): void;
}

/** Every feature by the name `describeFeatures` gives it; `message-images` lives inside the bot's module. */
const FEATURES: Record<string, Feature> = {
  'discord-bot': { module: (config) => DiscordBotModule.register(config), controllers: [] },
  drone: { module: (config) => DroneModule.register(config), controllers: [DroneController] },
  notify: { module: (config) => NotifyModule.register(config), controllers: [NotifyController] },
  render: { module: () => RenderApiModule, controllers: [RenderController] },
  metrics: { module: () => MetricsModule, controllers: [MetricsController], checkFiles: (config) => void loadDashboards(config) },
  vk: { module: (config) => VkModule.register(config), controllers: [VkController] },
};

/** The features whose work goes through the durable outbox (and so bring GET /outbox with them). */
const OUTBOX_USERS = ['drone', 'notify', 'vk', 'metrics', 'message-images'];

/** The one start-up line: which features run, on what, and which setting turned each on or would. */
export function featureSummary(states: FeatureState[]): string {
  const on = states.filter((state) => state.on).map((state) => `${state.name} (${state.because}; uses ${state.uses.join(', ')})`);
  const off = states.filter((state) => !state.on).map((state) => `${state.name} (${state.because})`);
  return `Features on: ${on.join('; ') || 'none'}. Off: ${off.join('; ') || 'none'}.`;
}

/**
 * Checks API_TOKENS_FILE and the files named by the settings of every feature that is on (a ConfigError lists every problem), so that a
 * wrong file stops start-up naming itself before MongoDB or anything else is waited for.
 */
export function checkConfiguredFiles(config: AppConfig): void {
  // Every process serving HTTP authenticates its callers (the outbox's and a feature that is off's endpoints too).
  AuthModule.checkFiles(config);
  for (const state of describeFeatures(config)) if (state.on) FEATURES[state.name]?.checkFiles?.(config);
}

/** Settings that work but deserve a second look, one line each, logged once at start-up. */
export function startupWarnings(config: AppConfig): string[] {
  const warnings: string[] = [];
  if (config.backend.url && config.backend.token === config.auth.systemToken) {
    // The render service's backend compares `Authorize` with its own SYSTEM_TOKEN: BACKEND_TOKEN must stay that value.
    warnings.push(
      config.backend.protocol === 'legacy'
        ? "BACKEND_TOKEN is the same as SYSTEM_TOKEN: whoever runs the backend can call every Herald endpoint with it. With BACKEND_PROTOCOL=legacy keep BACKEND_TOKEN = the backend's own SYSTEM_TOKEN (it accepts no other) and give Herald's SYSTEM_TOKEN a value of its own instead (see docs/migrating/render-service.md)"
        : 'BACKEND_TOKEN is the same as SYSTEM_TOKEN: whoever runs the backend can call every Herald endpoint with it; give the backend a token of its own',
    );
  }
  if (config.drone.webhookSecret && !config.drone.channelId && Object.keys(config.drone.repoChannels).length === 0) {
    warnings.push(
      'DRONE_WEBHOOK_SECRET is set but no channel is: every build is answered 202 "ignored" until DRONE_CHANNEL_ID (or DRONE_REPO_CHANNELS for some repositories) names one',
    );
  }
  return warnings;
}

@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    // Mongoose captures a stack trace at every query it runs, only to name the first caller should the same query
    // object run twice (Herald never reruns one): 1.5% of Herald's CPU in a burst of bot messages (a bench profile).
    mongoose.set('skipOriginalStackTraces', true);
    const imports: DynamicModule['imports'] = [
      ConfigModule.forRoot(config),
      LoggerModule.forRoot(loggerParams(config)),
      MongooseModule.forRoot(config.mongo.uri, {
        // How long an operation waits for an unreachable MongoDB before failing (a request then answers 503 with
        // Retry-After). Mongoose buffers operations only until the first connection, which start-up awaits; after
        // that every operation goes to the driver, whose wait for a server this bounds.
        serverSelectionTimeoutMS: config.mongo.timeoutMs,
        connectTimeoutMS: 5000,
        autoIndex: true,
      }),
      HealthModule,
      TelemetryModule,
    ];
    const states = describeFeatures(config);
    for (const state of states) {
      const feature = FEATURES[state.name];
      if (!feature) continue;
      if (state.on) imports.push(feature.module(config));
      else if (feature.controllers.length)
        imports.push(FeatureOffModule.register({ feature: state.name, reason: state.because, controllers: feature.controllers }));
    }
    // GET /outbox comes with the features that queue work through it; without them it is documented and answers 503.
    if (!states.some((state) => state.on && OUTBOX_USERS.includes(state.name))) {
      imports.push(
        FeatureOffModule.register({
          feature: 'outbox',
          reason: `no feature that queues work is on (${OUTBOX_USERS.join(', ')})`,
          controllers: [OutboxController],
        }),
      );
    }
    return { module: AppModule, imports };
  }
}
