import { Body, Controller, HttpCode, Post, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOperation, ApiProduces, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireScope } from '../auth/require-scope.decorator';
import { DISCORD_MESSAGE_EXAMPLE, RenderDiscordMessageDto, RenderQueryDto, StoredRenderDto } from './discord-message.dto';
import { RenderService, type StoredRender } from './render.service';

@ApiTags('render')
@ApiExtraModels(StoredRenderDto)
@Controller('render')
export class RenderController {
  constructor(private readonly render: RenderService) {}

  @Post('discord-message')
  @RequireScope('render')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Render one Discord message as a PNG (dark theme)',
    description:
      'Draws the message as the Discord client shows it. Identical input is rendered once (content-addressed cache in ' +
      'memory and S3 under render/<sha256>.png). Pictures are fetched by Herald from RENDER_FETCH_ALLOWLIST hosts only; ' +
      'a picture that cannot be fetched is drawn as a placeholder. With ?store=true the PNG is kept in S3 and the answer ' +
      'is JSON with its URN.',
  })
  @ApiBody({ type: RenderDiscordMessageDto, examples: { 'every feature': { value: DISCORD_MESSAGE_EXAMPLE } } })
  @ApiProduces('image/png', 'application/json')
  @ApiResponse({
    status: 200,
    description: 'The PNG, or with ?store=true where it was stored',
    content: {
      'image/png': { schema: { type: 'string', format: 'binary' } },
      'application/json': { schema: { $ref: getSchemaPath(StoredRenderDto) } },
    },
  })
  @ApiResponse({ status: 400, description: 'The body is malformed; `errors` names each field' })
  @ApiResponse({ status: 503, description: 'The renderer is at capacity or its browser is being replaced; see Retry-After' })
  async renderDiscordMessage(
    @Body() message: RenderDiscordMessageDto,
    @Query() query: RenderQueryDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StreamableFile | StoredRender> {
    if (query.store) return this.render.storeDiscordMessage(message);
    const image = await this.render.discordMessage(message);
    response.setHeader('ETag', `"${image.hash}"`);
    response.setHeader('X-Herald-Render-Key', image.key);
    return new StreamableFile(image.png, { type: 'image/png', length: image.png.length });
  }
}
