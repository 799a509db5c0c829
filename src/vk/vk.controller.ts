import { Controller, Get, HttpCode, HttpStatus, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiMongoUnavailableResponse } from '../common/api-responses';
import { VkDeliveriesService } from './vk-deliveries.service';
import { VK_ROUTES, describeRouting, type VkRouting } from './vk-routes';
import { VkDeliveriesPageDto, VkDeliveriesQueryDto, VkDeliveryViewDto, VkRoutingViewDto } from './vk.dto';
import { RequireScope } from '../auth/require-scope.decorator';

@ApiTags('vk')
@Controller('vk')
export class VkController {
  constructor(
    @Inject(VK_ROUTES) private readonly routing: VkRouting,
    private readonly deliveries: VkDeliveriesService,
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
    summary: 'The VK delivery outbox',
    description:
      '`?status=failed` lists deliveries whose last attempt failed: they are retried with backoff (`nextAttemptAt`) unless `parked`. ' +
      '`?status=pending` lists those not tried yet (e.g. waiting behind an earlier event of the same peer).',
  })
  @ApiOkResponse({ type: VkDeliveriesPageDto })
  @ApiBadRequestResponse({ description: 'A query parameter is malformed; `errors[].field` names it.' })
  @ApiMongoUnavailableResponse()
  list(@Query() query: VkDeliveriesQueryDto): Promise<VkDeliveriesPageDto> {
    return this.deliveries.list(query);
  }

  @Post('deliveries/:id/retry')
  @RequireScope('vk-admin')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Try an undelivered delivery again now (also un-parks it)' })
  @ApiParam({ name: 'id', description: 'The delivery id from GET /vk/deliveries.' })
  @ApiOkResponse({ type: VkDeliveryViewDto })
  @ApiNotFoundResponse({ description: 'No delivery with this id.' })
  @ApiConflictResponse({ description: 'The delivery was already delivered.' })
  @ApiMongoUnavailableResponse()
  retry(@Param('id') id: string): Promise<VkDeliveryViewDto> {
    return this.deliveries.retry(id);
  }
}
