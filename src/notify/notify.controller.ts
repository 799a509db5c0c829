import { Body, Controller, Delete, Get, Headers, HttpCode, HttpStatus, Param, Patch, Post, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { RequireScope } from '../auth/require-scope.decorator';
import { CreateNotificationDto, EditNotificationDto, NotificationAcceptedDto, NotificationViewDto } from './notification.dto';
import { NotifyService } from './notify.service';

const ID_PARAM = { name: 'id', description: 'The id POST /notify answered with.' };

@ApiTags('notify')
@Controller('notify')
export class NotifyController {
  constructor(private readonly notify: NotifyService) {}

  @Post()
  @RequireScope('notify')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Send a message to a Discord channel',
    description:
      'Stores the notification and answers at once; a worker sends it, waiting out rate limits and retrying Discord outages. ' +
      "A channel's notifications arrive in the order they were accepted. Follow the outcome with GET /notify/{id}.",
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Any unique string (e.g. a UUID). The same key within 24 hours returns the first notification instead of sending again.',
  })
  @ApiAcceptedResponse({ type: NotificationAcceptedDto, description: 'Stored; `Location` points at the notification. `Idempotent-Replayed: true` when the key was seen before.' })
  @ApiBadRequestResponse({ description: "A field breaks Discord's limits or no channel is known; `errors[].field` names it, e.g. `embeds[0].title`." })
  async send(
    @Body() request: CreateNotificationDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<NotificationAcceptedDto> {
    const { notification, replayed } = await this.notify.accept(request, idempotencyKey);
    response.setHeader('Location', `/notify/${notification.id}`);
    if (replayed) response.setHeader('Idempotent-Replayed', 'true');
    return { id: notification.id, state: notification.state };
  }

  @Get(':id')
  @RequireScope('read', 'notify')
  @ApiOperation({ summary: 'State of a notification: queued, sent, failed or deleted, with Discord message id, attempts and last error' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: NotificationViewDto })
  @ApiNotFoundResponse({ description: 'No notification with this id.' })
  get(@Param('id') id: string): Promise<NotificationViewDto> {
    return this.notify.get(id);
  }

  @Patch(':id')
  @RequireScope('notify')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Replace what the message shows',
    description:
      'Takes the same fields as POST except channelId, and replaces the text and embeds (fields left out are cleared). ' +
      'Applied by the worker with the same retries as a send (`pending: "edit"` until done); a notification still queued ' +
      'is sent with the new content instead.',
  })
  @ApiParam(ID_PARAM)
  @ApiAcceptedResponse({ type: NotificationViewDto })
  @ApiBadRequestResponse({ description: "A field breaks Discord's limits; `errors[].field` names it." })
  @ApiNotFoundResponse({ description: 'No notification with this id.' })
  @ApiConflictResponse({ description: 'The notification failed (never reached Discord) or was deleted.' })
  edit(@Param('id') id: string, @Body() request: EditNotificationDto): Promise<NotificationViewDto> {
    return this.notify.edit(id, request);
  }

  @Delete(':id')
  @RequireScope('notify')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Delete the message from Discord',
    description:
      'A sent message is deleted by the worker (`pending: "delete"`, then state `deleted`); a notification not sent yet is ' +
      'cancelled and never sent. Deleting again is harmless.',
  })
  @ApiParam(ID_PARAM)
  @ApiAcceptedResponse({ type: NotificationViewDto })
  @ApiNotFoundResponse({ description: 'No notification with this id.' })
  remove(@Param('id') id: string): Promise<NotificationViewDto> {
    return this.notify.remove(id);
  }
}
