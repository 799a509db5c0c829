import { Controller, Get, HttpCode, HttpStatus, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiMongoUnavailableResponse } from '../common/api-responses';
import { VkDeliveriesView } from './vk-deliveries.view';
import { VK_ROUTES, describeRouting, type VkRouting } from './vk-routes';
import { VkDeliveriesPageDto, VkDeliveriesQueryDto, VkDeliveryViewDto, VkRoutingViewDto } from './vk.dto';
import { RequireScope } from '../auth/require-scope.decorator';

@ApiTags('vk')
@Controller('vk')
export class VkController {
  constructor(
    @Inject(VK_ROUTES) private readonly routing: VkRouting,
    private readonly deliveries: VkDeliveriesView,
  ) {}

  @Get('routes')
  @RequireScope('read', 'vk-admin')
  @ApiOperation({
    summary: 'Where VK events go',
    description:
      'The routes in force: the default route set (one destination per event type: command, message, button, reaction; ' +
      'a durable RabbitMQ queue, a Redis channel or a Redis stream as VK_DEFAULT_DESTINATION says) and those of VK_ROUTES_FILE, ' +
      'with the schema of the Event every destination receives (each field and its meaning). Webhook secrets are never shown.',
  })
  @ApiOkResponse({ type: VkRoutingViewDto })
  routes(): VkRoutingViewDto {
    return describeRouting(this.routing);
  }

  @Get('deliveries')
  @RequireScope('read', 'vk-admin')
  @ApiOperation({
    summary: "VK deliveries: the outbox's `vk` jobs",
    description:
      'Each delivery of an event to a destination is a job of the shared outbox (queue `vk`, lane `vk:<destination>:<peer>`). ' +
      '`?status=failed` lists deliveries whose last attempt failed: they are retried with backoff (`nextAttemptAt`) unless `parked`. ' +
      '`?status=pending` lists those not tried yet (e.g. waiting behind an earlier event of the same peer). ' +
      'Newest first (`order=oldest` for the other way), `limit` a page; `next` in the answer is the `cursor` of the next page. ' +
      'Parked deliveries are also listed by GET /outbox, with those of the other features.',
  })
  @ApiOkResponse({ type: VkDeliveriesPageDto })
  @ApiBadRequestResponse({
    description: 'A query parameter is malformed, or `destination` names no destination of the routes and no delivery; `errors[].field` names it.',
  })
  @ApiMongoUnavailableResponse()
  list(@Query() query: VkDeliveriesQueryDto): Promise<VkDeliveriesPageDto> {
    return this.deliveries.list(query);
  }

  @Post('deliveries/:id/retry')
  @RequireScope('vk-admin')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Send a parked delivery again',
    description:
      'The same as POST /outbox/{id}/retry for a VK delivery: it is queued again as a new job at the end of its lane, ' +
      'and the answer is that new job (a new `id`); the parked one becomes `retried`.',
  })
  @ApiParam({ name: 'id', description: 'The id of a parked delivery from GET /vk/deliveries or GET /outbox.' })
  @ApiOkResponse({ type: VkDeliveryViewDto })
  @ApiNotFoundResponse({ description: 'No VK delivery with this id.' })
  @ApiConflictResponse({ description: 'The delivery is not parked: delivered, retried already, or waiting for its automatic retry.' })
  @ApiMongoUnavailableResponse()
  retry(@Param('id') id: string): Promise<VkDeliveryViewDto> {
    return this.deliveries.retry(id);
  }
}
