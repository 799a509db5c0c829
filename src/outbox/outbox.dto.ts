import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { CURSOR_DESCRIPTION, IsOutboxCursor, NEXT_DESCRIPTION, OUTBOX_LIST_ORDERS, type OutboxListOrder } from './outbox-page';
import { OUTBOX_JOB_STATES, type OutboxJobState } from './outbox.schema';
import type { OutboxJobRecord } from './outbox.store';

export class OutboxJobViewDto {
  @ApiProperty({ example: '665f1c2ab0c4a3e1d2f00a11' }) id!: string;
  @ApiProperty({ example: 'drone', description: 'The feature that owns the job' }) queue!: string;
  @ApiProperty({ example: 'drone:build:drone.example.com/7/1001', description: 'Ordering key: jobs of a lane run one at a time, in order' })
  lane!: string;
  @ApiProperty({ example: 3, description: 'Place in the lane' }) seq!: number;
  @ApiProperty({ enum: OUTBOX_JOB_STATES }) state!: OutboxJobState;
  @ApiProperty({ example: 1, description: 'Handler runs whose outcome was recorded' }) attempts!: number;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'Discord 403 Missing Access (50001)',
    description: 'Why it was parked or last failed',
  })
  lastError!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
}

export class OutboxParkedListDto {
  @ApiProperty({
    type: [OutboxJobViewDto],
    description: 'Parked jobs, by when they were parked: newest first unless `order=oldest`; at most `limit`',
  })
  parked!: OutboxJobViewDto[];
  @ApiProperty({ type: String, nullable: true, description: NEXT_DESCRIPTION, example: 'MTc2NDU2NzAwMDAwMC42NjVmMWMyYWIwYzRhM2UxZDJmMDBhMTE' })
  next!: string | null;
}

export class OutboxRetriedDto {
  @ApiProperty({ type: OutboxJobViewDto, description: 'The parked job, now `retried`' }) parked!: OutboxJobViewDto;
  @ApiProperty({ type: OutboxJobViewDto, description: 'The new job that carries it, at the end of the same lane' }) job!: OutboxJobViewDto;
}

export class OutboxListQueryDto {
  @ApiPropertyOptional({ example: 'notify', description: "Only this feature's parked jobs" })
  @IsOptional()
  @Matches(/^[a-z][a-z0-9-]{0,39}$/, { message: 'queue must be a feature name such as notify or drone' })
  queue?: string;

  @ApiPropertyOptional({
    enum: OUTBOX_LIST_ORDERS,
    default: 'newest',
    description: 'By when each job was parked: `newest` first (default) or `oldest` first.',
  })
  @IsOptional()
  @IsIn(OUTBOX_LIST_ORDERS)
  order?: OutboxListOrder;

  @ApiPropertyOptional({ description: CURSOR_DESCRIPTION })
  @IsOptional()
  @IsOutboxCursor()
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500, default: 100, description: 'At most this many a page.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export function toJobView(job: OutboxJobRecord): OutboxJobViewDto {
  return {
    id: job._id.toHexString(),
    queue: job.queue,
    lane: job.lane,
    seq: job.seq,
    state: job.state,
    attempts: job.attempts,
    lastError: job.lastError,
    createdAt: new Date(job.createdAt).toISOString(),
    finishedAt: job.finishedAt ? new Date(job.finishedAt).toISOString() : null,
  };
}
