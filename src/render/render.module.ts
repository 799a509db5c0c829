import { Module } from '@nestjs/common';
import { BrowserModule } from '../browser/browser.module';
import { StorageModule } from '../storage/storage.module';
import { RenderService } from './render.service';

/**
 * The Discord-message template and its cached render (template@version + canonical input → one PNG in memory and S3).
 * Imported by the render endpoints and by the bot's message images, which share the one RenderService.
 */
@Module({
  imports: [BrowserModule, StorageModule],
  providers: [RenderService],
  exports: [RenderService],
})
export class RenderModule {}
