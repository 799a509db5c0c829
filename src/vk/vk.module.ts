import { DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/config';

@Module({})
export class VkModule {
  static register(_config: AppConfig): DynamicModule {
    return { module: VkModule };
  }
}
