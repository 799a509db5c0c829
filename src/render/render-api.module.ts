import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { RenderController } from './render.controller';
import { RenderModule } from './render.module';

/** POST /render/discord-message: the render feature's HTTP endpoint (RENDER_API, on with S3 by default). */
@Module({ imports: [AuthModule, RenderModule], controllers: [RenderController] })
export class RenderApiModule {}
