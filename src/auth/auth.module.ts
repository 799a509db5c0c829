import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { getOptionsToken, getStorageToken } from '@nestjs/throttler';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { loadApiTokensFile } from './api-tokens-file';
import { MongoThrottlerStorage } from './mongo-throttler.storage';
import { RateHit, RateHitSchema } from './rate-hit.schema';
import { ScopeGuard } from './scope.guard';
import { TokenRegistry } from './token-registry';
import { TokenThrottlerGuard, throttlerOptions } from './token-throttler.guard';

/**
 * Who may call the HTTP API: named tokens with scopes, SYSTEM_TOKEN, and per-token rate limits. Controllers use
 * `@RequireScope(...)`; their module imports this one for the guards' providers.
 */
@Module({
  imports: [MongooseModule.forFeature([{ name: RateHit.name, schema: RateHitSchema }])],
  providers: [
    TokenRegistry,
    ScopeGuard,
    TokenThrottlerGuard,
    MongoThrottlerStorage,
    { provide: getStorageToken(), useExisting: MongoThrottlerStorage },
    { provide: getOptionsToken(), useFactory: (config: AppConfig) => throttlerOptions(config), inject: [APP_CONFIG] },
  ],
  exports: [TokenRegistry, ScopeGuard, TokenThrottlerGuard, getStorageToken(), getOptionsToken()],
})
export class AuthModule {
  /** Reads and checks API_TOKENS_FILE, throwing a ConfigError: run before Herald connects to anything, as a feature's checkFiles. */
  static checkFiles(config: AppConfig): void {
    loadApiTokensFile(config);
  }
}
