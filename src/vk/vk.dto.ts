import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { CURSOR_DESCRIPTION, IsOutboxCursor, NEXT_DESCRIPTION, OUTBOX_LIST_ORDERS, type OutboxListOrder } from '../outbox/outbox-page';
import { VK_EVENT_TYPES, type VkEvent, type VkEventType } from './vk-event';

export const VK_DELIVERY_STATUSES = ['pending', 'failed', 'delivered'] as const;
export type VkDeliveryStatus = (typeof VK_DELIVERY_STATUSES)[number];

export class VkDeliveriesQueryDto {
  @ApiPropertyOptional({
    enum: VK_DELIVERY_STATUSES,
    description: '`pending`: not tried yet; `failed`: the last attempt failed (retried automatically unless `parked`); `delivered`.',
  })
  @IsOptional()
  @IsIn(VK_DELIVERY_STATUSES)
  status?: VkDeliveryStatus;

  @ApiPropertyOptional({
    description:
      'Only this destination (a name from GET /vk/routes, e.g. `redis:command`, not the channel `command`); a name neither in the routes nor on any delivery is a 400.',
    example: 'queue:command',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  destination?: string;

  @ApiPropertyOptional({ type: 'integer', description: 'Only this VK peer id.', example: 2000000001 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  peer?: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 500,
    default: 100,
    description: 'At most this many a page; `next` in the answer reads on.',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({
    enum: OUTBOX_LIST_ORDERS,
    default: 'newest',
    description: 'By when each delivery was stored: `newest` first (default: the recent failure an operator looks for) or `oldest` first.',
  })
  @IsOptional()
  @IsIn(OUTBOX_LIST_ORDERS)
  order?: OutboxListOrder;

  @ApiPropertyOptional({ description: CURSOR_DESCRIPTION })
  @IsOptional()
  @IsOutboxCursor()
  cursor?: string;
}

export class VkDeliveryViewDto {
  @ApiProperty({
    description: 'The outbox job id, for POST /vk/deliveries/{id}/retry or POST /outbox/{id}/retry (a retry is a new job with a new id).',
    example: '665f1c2ab0c4a3e1d2f00a11',
  })
  id!: string;

  @ApiProperty({ description: 'Stable for an event and destination: X-Herald-Delivery-Id of webhooks.', example: '5f0c2a9e8d7b6a5f4e3d2c1b0a998877' })
  deliveryId!: string;

  @ApiProperty({ description: "VK's event_id." })
  eventId!: string;

  @ApiProperty({ enum: VK_EVENT_TYPES })
  eventType!: VkEventType;

  @ApiProperty({ example: 'queue:command' })
  destination!: string;

  @ApiProperty({ example: 2000000001 })
  peerId!: number;

  @ApiProperty({ enum: VK_DELIVERY_STATUSES })
  status!: VkDeliveryStatus;

  @ApiProperty({
    description: 'True when retrying cannot help (a permanent error); only POST .../retry sends it again (also listed by GET /outbox).',
  })
  parked!: boolean;

  @ApiProperty()
  attempts!: number;

  @ApiProperty({ type: String, nullable: true, example: 'RabbitMQ queue command: connect ECONNREFUSED 127.0.0.1:5672' })
  lastError!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Next automatic attempt; null when delivered or parked.' })
  nextAttemptAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  deliveredAt!: string | null;

  @ApiProperty({ description: 'The normalised event as the destination receives it.', type: Object })
  event!: VkEvent;
}

export class VkDeliveryCountsDto {
  @ApiProperty()
  pending!: number;

  @ApiProperty()
  failed!: number;
}

export class VkDeliveriesPageDto {
  @ApiProperty({ type: [VkDeliveryViewDto], description: 'By when each was stored: newest first unless `order=oldest`.' })
  items!: VkDeliveryViewDto[];

  @ApiProperty({ type: String, nullable: true, description: NEXT_DESCRIPTION })
  next!: string | null;

  @ApiProperty({ type: VkDeliveryCountsDto, description: 'Undelivered totals across all destinations.' })
  counts!: VkDeliveryCountsDto;
}

export class VkRouteViewDto {
  @ApiProperty({
    description: "The route's `name` in VK_ROUTES_FILE, else its place there (`routes.0` is the first); `default: …` for the default route set.",
    example: 'routes.0',
  })
  name!: string;

  @ApiProperty({ enum: VK_EVENT_TYPES, isArray: true })
  event_type!: VkEventType[];

  @ApiProperty({ type: [Number], nullable: true })
  peers!: number[] | null;

  @ApiProperty({ type: [String], nullable: true })
  commands!: string[] | null;

  @ApiProperty({ type: [String] })
  to!: string[];
}

export class VkDestinationViewDto {
  @ApiProperty({ example: 'queue:command' })
  name!: string;

  @ApiProperty({ enum: ['amqp', 'http', 'discord', 'redis'] })
  type!: 'amqp' | 'http' | 'discord' | 'redis';

  @ApiPropertyOptional({ description: 'amqp: the durable queue.' })
  queue?: string;

  @ApiPropertyOptional({ description: 'http: the URL, without credentials or query string.' })
  url?: string;

  @ApiPropertyOptional({ description: 'http: always true; the secret is never shown.' })
  signed?: boolean;

  @ApiPropertyOptional({ description: 'discord: the channel id.' })
  channelId?: string;

  @ApiPropertyOptional({
    enum: ['publish', 'stream'],
    description: 'redis: `publish` (PUBLISH; only subscribers listening then get it) or `stream` (XADD; kept for consumer groups).',
  })
  mode?: 'publish' | 'stream';

  @ApiPropertyOptional({
    description:
      'redis: the channel or stream key: the fixed one; else, where it follows the event type, the key when the routes send it one ' +
      'event type (as each default destination), or `<prefix><event_type>` when several (see `channels`).',
    example: 'command',
  })
  channel?: string;

  @ApiPropertyOptional({ description: 'redis: true when the key is `<VK_REDIS_PREFIX><event_type>`, false for a fixed `channel`.' })
  perEventType?: boolean;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'redis: the channel or stream key of each event type the routes send here.',
    example: { command: 'command' },
  })
  channels?: Partial<Record<VkEventType, string>>;

  @ApiPropertyOptional({ description: 'redis stream: about this many entries are kept (XADD MAXLEN ~).' })
  maxLen?: number;
}

export class VkEventFieldDto {
  @ApiProperty({ example: 'message.attachments' })
  field!: string;

  @ApiProperty({ example: 'string[]' })
  type!: string;

  @ApiProperty()
  meaning!: string;
}

export class VkRoutingViewDto {
  @ApiProperty({ description: 'VK_ROUTES_FILE, or "default" for the default route set alone.' })
  source!: string;

  @ApiProperty({ description: 'Whether the default route set (a queue, channel or stream per event type) is on.' })
  defaultQueues!: boolean;

  @ApiProperty({ enum: ['amqp', 'redis', 'redis-stream'], description: 'VK_DEFAULT_DESTINATION: what the default route set publishes to.' })
  defaultDestination!: 'amqp' | 'redis' | 'redis-stream';

  @ApiProperty({ type: [VkDestinationViewDto] })
  destinations!: VkDestinationViewDto[];

  @ApiProperty({ type: [VkRouteViewDto] })
  routes!: VkRouteViewDto[];

  @ApiProperty({ type: [VkEventFieldDto], description: 'Every field of the Event the destinations receive, with its meaning.' })
  eventSchema!: readonly VkEventFieldDto[];
}
