import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import type { AppConfig } from '../config/config';
import { ImageFetcher } from './image-fetcher';
import { RenderController } from './render.controller';
import { RenderService } from './render.service';
import { TemplateRenderer } from './template-renderer';

/**
 * Templates → PNG. RenderService is what the Discord module uses; TemplateRenderer is the bare warm-page render
 * (no cache) for templates that manage their own keys, such as the metrics charts. Global, so every feature module
 * shares the one renderer instead of importing (and so duplicating) this dynamic module.
 */
@Module({})
export class RenderModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: RenderModule,
      global: true,
      imports: config.roles.has('api') ? [AuthModule] : [],
      controllers: config.roles.has('api') ? [RenderController] : [],
      providers: [TemplateRenderer, ImageFetcher, RenderService],
      exports: [RenderService, TemplateRenderer],
    };
  }
}
