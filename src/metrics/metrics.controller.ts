import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { ApiBodyTooLargeResponse } from '../common/api-responses';
import { METRICS_IMAGE_EXAMPLE, MetricsImageRequestDto, MetricsImageResponseDto } from './metrics-image.dto';
import { MetricsService } from './metrics.service';
import { RequireScope } from '../auth/require-scope.decorator';

@ApiTags('metrics')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Post('image')
  @RequireScope('metrics')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Render metrics as chart images in object storage',
    description:
      'Draws each chart (line, area, bar or a stat panel) as a PNG, stores it under a content-addressed key and answers ' +
      'one image per chart in request order. The same chart always gets the same key and is drawn only once.',
  })
  @ApiBody({ type: MetricsImageRequestDto, examples: { 'latency line and CPU stat': { value: METRICS_IMAGE_EXAMPLE } } })
  @ApiOkResponse({ type: MetricsImageResponseDto })
  @ApiBadRequestResponse({ description: 'Malformed, or over a configured limit; `errors[].field` names the field. Nothing is stored' })
  @ApiBodyTooLargeResponse()
  @ApiServiceUnavailableResponse({ description: 'The renderer is at capacity or object storage is down; see Retry-After' })
  async image(@Body() body: MetricsImageRequestDto): Promise<MetricsImageResponseDto> {
    return { images: await this.metrics.chartImages(body) };
  }
}
