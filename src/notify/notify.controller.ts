import {
  BadGatewayException,
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Patch,
  Post,
  Query,
  Res,
  UnprocessableEntityException,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiJsonBodyResponses, ApiMongoUnavailableResponse } from '../common/api-responses';
import { AcceptsForm } from '../common/json-body';
import {
  CreateNotificationDto,
  EditNotificationDto,
  NotificationAcceptedDto,
  NotificationSentDto,
  NotificationDetailDto,
  NotificationViewDto,
  NotifyQueryDto,
  NotifyWaitErrorDto,
  NOTIFY_EDIT_EXAMPLES,
  NOTIFY_EXAMPLES,
} from './notification.dto';
import { NotifyService } from './notify.service';
import { RequireScope } from '../auth/require-scope.decorator';

const ID_PARAM = { name: 'id', description: 'The id POST /notify answered with.' };

@ApiTags('notify')
@ApiMongoUnavailableResponse()
@Controller('notify')
export class NotifyController {
  constructor(private readonly notify: NotifyService) {}

  @Post()
  @RequireScope('notify')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Send a message to a Discord channel',
    description:
      'Stores the notification and answers at once (202); a worker sends it, waiting out rate limits and retrying Discord outages. ' +
      "A channel's notifications arrive in the order they were accepted. Follow the outcome with GET /notify/{id}. " +
      "With `?wait=true` (like Discord's own webhooks) it answers 200 with Discord's message id once Discord accepted it, 422 " +
      "with Discord's error when Discord refused it, or 502 when Discord could not be reached within NOTIFY_WAIT_TIMEOUT_MS " +
      '(the notification stays queued and is still sent; resend with the same Idempotency-Key to wait again).',
  })
  @ApiQuery({ name: 'wait', required: false, type: Boolean, description: 'Answer only once Discord accepted or refused the message.' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Any unique string (e.g. a UUID). The same request with the same key within 24 hours returns the first notification instead of ' +
      'sending again; the key with a different request (another message or channel) is refused with 422.',
  })
  @ApiAcceptedResponse({
    type: NotificationAcceptedDto,
    description:
      'Stored; `Location` points at the notification. `Idempotent-Replayed: true` when the key was seen before. With wait=true: still queued behind its channel when the wait ran out, without a Discord error, or Herald began shutting down while waiting.',
  })
  @ApiOkResponse({ type: NotificationSentDto, description: 'wait=true: Discord accepted the message; `messageId` is its id.' })
  @ApiUnprocessableEntityResponse({
    type: NotifyWaitErrorDto,
    description:
      'wait=true: Discord refused the message for good (e.g. unknown channel, missing access); state `failed`. ' +
      'Also (without `discordError`, `errors[].field` `Idempotency-Key`) when the Idempotency-Key was used for a different request: ' +
      '`id` and `state` are then the notification first stored under the key.',
  })
  @ApiBadGatewayResponse({
    type: NotifyWaitErrorDto,
    description: 'wait=true: Discord failed or could not be reached in time; the notification stays queued and is retried.',
  })
  @ApiBadRequestResponse({
    description: "A field breaks Discord's limits or no channel is known; `errors[].field` names it, e.g. `embeds[0].title`.",
  })
  @ApiBody({ type: CreateNotificationDto, examples: NOTIFY_EXAMPLES })
  // Kahuna's clients may post `message=…` as an HTML form (curl -d message=…); the one endpoint that reads one.
  @AcceptsForm()
  @ApiJsonBodyResponses()
  async send(
    @Body() request: CreateNotificationDto,
    @Query() query: NotifyQueryDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<NotificationAcceptedDto | NotificationSentDto> {
    const { notification, replayed, waited } = await this.notify.accept(request, idempotencyKey, query.wait === true);
    response.setHeader('Location', `/notify/${notification.id}`);
    if (replayed) response.setHeader('Idempotent-Replayed', 'true');
    // Not waited for (or the wait was cut short by a shutdown): stored, and sent by whichever replica runs next.
    if (!waited) return { id: notification.id, state: notification.state };

    const failure = { id: notification.id, state: notification.state, discordError: notification.lastError };
    if (notification.state === 'sent' && notification.messageId) {
      response.status(HttpStatus.OK);
      return { id: notification.id, state: 'sent', messageId: notification.messageId, channelId: notification.channelId };
    }
    if (notification.state === 'failed') {
      throw new UnprocessableEntityException({
        statusCode: 422,
        error: 'Unprocessable Entity',
        message: `Discord refused the message: ${notification.lastError?.message ?? 'no reason given'}`,
        ...failure,
      });
    }
    if (notification.state === 'queued' && notification.lastError) {
      throw new BadGatewayException({
        statusCode: 502,
        error: 'Bad Gateway',
        message: `Discord did not accept the message in time (${notification.lastError.message}); it stays queued and is retried: follow GET /notify/${notification.id}`,
        ...failure,
      });
    }
    return { id: notification.id, state: notification.state };
  }

  @Get(':id')
  @RequireScope('read', 'notify')
  @ApiOperation({
    summary: 'State of a notification: queued, sent, failed or deleted, with Discord message id, attempts, last error and its outbox jobs',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: NotificationDetailDto })
  @ApiNotFoundResponse({ description: 'No notification with this id.' })
  get(@Param('id') id: string): Promise<NotificationDetailDto> {
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
  @ApiBody({ type: EditNotificationDto, examples: NOTIFY_EDIT_EXAMPLES })
  @ApiJsonBodyResponses()
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
