import { Module } from '@nestjs/common';
import { RenderController } from './render.controller';
import { RenderModule } from './render.module';

/** POST /render/discord-message: the render feature's HTTP endpoint (RENDER_API, on with S3 by default). */
@Module({ imports: [RenderModule], controllers: [RenderController] })
export class RenderApiModule {}
