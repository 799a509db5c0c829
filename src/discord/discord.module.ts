import { DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/config';

@Module({})
export class DiscordModule {
  static register(_config: AppConfig): DynamicModule {
    return { module: DiscordModule };
  }
}
