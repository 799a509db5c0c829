import { DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/config';
import { ImageFetcher } from './image-fetcher';
import { RenderController } from './render.controller';
import { RenderService } from './render.service';
import { TemplateRenderer } from './template-renderer';

/**
 * Templates → PNG. RenderService is what the Discord and metrics modules use; TemplateRenderer is the bare
 * warm-page render (no cache) for templates that manage their own keys.
 */
@Module({})
export class RenderModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: RenderModule,
      controllers: config.roles.has('api') ? [RenderController] : [],
      providers: [TemplateRenderer, ImageFetcher, RenderService],
      exports: [RenderService, TemplateRenderer],
    };
  }
}
