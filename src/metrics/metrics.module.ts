import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import type { AppConfig } from '../config/config';
import { MetricsChartRenderer } from './metrics-chart.renderer';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** POST /metrics/image: metrics as chart PNGs in object storage. BrowserPool and ObjectStorage come from global modules. */
@Module({})
export class MetricsModule {
  static register(_config: AppConfig): DynamicModule {
    return {
      module: MetricsModule,
      imports: [AuthModule],
      controllers: [MetricsController],
      providers: [MetricsChartRenderer, MetricsService],
    };
  }
}
