import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { registry } from './telemetry';

@ApiTags('health')
@Controller('metrics')
export class TelemetryController {
  @Get()
  @Header('Content-Type', registry.contentType)
  @ApiOperation({ summary: 'Prometheus metrics: render step durations, queue depth, deliveries, process figures.' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format' })
  metrics(): Promise<string> {
    return registry.metrics();
  }
}
