import { Body, Controller, HttpCode, Post, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOperation, ApiProduces, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiJsonBodyResponses } from '../common/api-responses';
import {
  DISCORD_CONVERSATION_EXAMPLE,
  DISCORD_MESSAGE_EXAMPLE,
  RenderDiscordConversationDto,
  RenderDiscordMessageDto,
  RenderQueryDto,
  StoredRenderDto,
} from './discord-message.dto';
import { CONVERSATION_LIMITS } from './discord-message.normaliser';
import { RenderService, type CachedRender, type StoredRender } from './render.service';
import { RequireScope } from '../auth/require-scope.decorator';

/** Both render endpoints answer the PNG, or with ?store=true where it was stored. */
const ApiRenderedImage = () =>
  ApiResponse({
    status: 200,
    description: 'The PNG, or with ?store=true where it was stored',
    content: {
      'image/png': { schema: { type: 'string', format: 'binary' } },
      'application/json': { schema: { $ref: getSchemaPath(StoredRenderDto) } },
    },
  });

@ApiTags('render')
@ApiExtraModels(StoredRenderDto)
@Controller('render')
export class RenderController {
  constructor(private readonly render: RenderService) {}

  @Post('discord-message')
  @RequireScope('render')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Render one Discord message as a PNG (dark or light theme)',
    description:
      'Draws the message as the Discord client shows it. Identical input is rendered once (content-addressed cache in ' +
      'memory and S3 under render/<sha256>.png). Pictures are fetched by Herald from RENDER_FETCH_ALLOWLIST hosts only; ' +
      'a picture that cannot be fetched is drawn as a placeholder. With ?store=true the PNG is kept in S3 and the answer ' +
      'is JSON with its URN.',
  })
  @ApiBody({ type: RenderDiscordMessageDto, examples: { 'every feature': { value: DISCORD_MESSAGE_EXAMPLE } } })
  @ApiProduces('image/png', 'application/json')
  @ApiRenderedImage()
  @ApiResponse({ status: 400, description: 'The body is malformed; `errors` names each field' })
  @ApiJsonBodyResponses()
  @ApiResponse({
    status: 503,
    description: 'The renderer is at capacity, its browser is being replaced, or (with ?store=true) object storage is down; see Retry-After',
  })
  async renderDiscordMessage(
    @Body() message: RenderDiscordMessageDto,
    @Query() query: RenderQueryDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StreamableFile | StoredRender> {
    if (query.store) return this.render.storeDiscordMessage(message);
    return this.send(await this.render.discordMessage(message), response);
  }

  @Post('discord-conversation')
  @RequireScope('render')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Render several Discord messages as one PNG, grouped as the client lists them',
    description:
      'Messages by the same author within 7 minutes share one header; a date separator opens the first message and ' +
      `each new day; newMessagesFrom draws the red "NEW" line. At most ${CONVERSATION_LIMITS.messages} messages; the ` +
      `picture is at most ${CONVERSATION_LIMITS.height} CSS pixels tall (× scale): messages below are cut off. Caching, ` +
      'pictures and ?store=true as for one message.',
  })
  @ApiBody({ type: RenderDiscordConversationDto, examples: { 'a short thread': { value: DISCORD_CONVERSATION_EXAMPLE } } })
  @ApiProduces('image/png', 'application/json')
  @ApiRenderedImage()
  @ApiResponse({ status: 400, description: 'The body is malformed; `errors` names each field (e.g. messages[2].timestamp)' })
  @ApiJsonBodyResponses()
  @ApiResponse({ status: 503, description: 'The renderer is at capacity or its browser is being replaced; see Retry-After' })
  async renderDiscordConversation(
    @Body() conversation: RenderDiscordConversationDto,
    @Query() query: RenderQueryDto,
    @Res({ passthrough: true }) response: Response,
  ): Promise<StreamableFile | StoredRender> {
    if (query.store) return this.render.storeDiscordConversation(conversation);
    return this.send(await this.render.discordConversation(conversation), response);
  }

  private send(image: CachedRender, response: Response): StreamableFile {
    response.setHeader('ETag', `"${image.hash}"`);
    response.setHeader('X-Herald-Render-Key', image.key);
    return new StreamableFile(image.png, { type: 'image/png', length: image.png.length });
  }
}
