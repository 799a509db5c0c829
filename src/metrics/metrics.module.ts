import { Module } from '@nestjs/common';
import { BrowserModule } from '../browser/browser.module';
import { StorageModule } from '../storage/storage.module';
import { MetricsChartRenderer } from './metrics-chart.renderer';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** POST /metrics/image: metrics as chart PNGs in object storage (METRICS_API, on with S3 by default). */
@Module({
  imports: [BrowserModule, StorageModule],
  controllers: [MetricsController],
  providers: [MetricsChartRenderer, MetricsService],
})
export class MetricsModule {}
