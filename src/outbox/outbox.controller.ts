import { ConflictException, Controller, Get, HttpCode, HttpStatus, NotFoundException, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiMongoUnavailableResponse } from '../common/api-responses';
import { RequireScope } from '../auth/require-scope.decorator';
import { Outbox } from './outbox';
import { OutboxListQueryDto, OutboxParkedListDto, OutboxRetriedDto, toJobView } from './outbox.dto';
import { pageRequest } from './outbox-page';

@ApiTags('outbox')
@ApiMongoUnavailableResponse()
@Controller('outbox')
export class OutboxController {
  constructor(private readonly outbox: Outbox) {}

  @Get()
  @RequireScope('read', 'outbox-admin')
  @ApiOperation({
    summary: 'Parked jobs of every feature',
    description:
      'Jobs whose handler said they can never succeed as they are (e.g. Discord refused the channel), with the reason: ' +
      'newest first (`order=oldest` for the other way), `limit` a page; `next` reads on (`cursor=<next>`).',
  })
  @ApiOkResponse({ type: OutboxParkedListDto })
  @ApiBadRequestResponse({
    description: 'A query parameter is not valid (e.g. an unknown queue, a cursor that is not a `next`); `errors[].field` names it.',
  })
  async list(@Query() query: OutboxListQueryDto): Promise<OutboxParkedListDto> {
    const page = await this.outbox.parked(query.queue, pageRequest(query));
    return { parked: page.items.map(toJobView), next: page.next };
  }

  @Post(':id/retry')
  @RequireScope('outbox-admin')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Send a parked job again',
    description: 'Queues it again at the end of its lane (e.g. after fixing the channel permission); the parked job becomes `retried`.',
  })
  @ApiParam({ name: 'id', description: 'A parked job id from GET /outbox' })
  @ApiOkResponse({ type: OutboxRetriedDto })
  @ApiNotFoundResponse({ description: 'No outbox job with this id.' })
  @ApiConflictResponse({ description: 'The job is not parked (queued, done or already retried).' })
  async retry(@Param('id') id: string): Promise<OutboxRetriedDto> {
    const job = await this.outbox.find(id);
    if (!job) throw new NotFoundException(`No outbox job with id ${id}`);
    if (job.state !== 'parked') throw new ConflictException(`Outbox job ${id} is ${job.state}, not parked; only parked jobs can be retried`);
    const again = await this.outbox.retryParked(job);
    const parked = (await this.outbox.find(id)) ?? job;
    return { parked: toJobView(parked), job: toJobView(again) };
  }
}
