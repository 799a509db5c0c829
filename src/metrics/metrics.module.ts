import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth/auth.module';
import { BackendModule } from '../backend/backend.module';
import { BrowserModule } from '../browser/browser.module';
import { OutboxModule } from '../outbox/outbox.module';
import { StorageModule } from '../storage/storage.module';
import { DashboardCatalog } from './dashboard-catalog';
import { DashboardScheduler } from './dashboard-scheduler';
import { DashboardSources } from './dashboard-sources';
import { DASHBOARD_MODELS } from './dashboard.schemas';
import { DashboardService } from './dashboard.service';
import { MetricsChartRenderer } from './metrics-chart.renderer';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { SchedulerLease } from './scheduler-lease';

/**
 * POST /metrics/image: metrics as chart PNGs in object storage, and the dashboards of METRICS_DASHBOARDS_FILE (data
 * fetched from Prometheus or JSON, stable keys, schedules run by one replica through the outbox, the backend told).
 * METRICS_API, on with S3 by default.
 */
@Module({
  imports: [AuthModule, BrowserModule, StorageModule, OutboxModule, BackendModule, MongooseModule.forFeature(DASHBOARD_MODELS)],
  controllers: [MetricsController],
  providers: [MetricsChartRenderer, MetricsService, DashboardSources, DashboardCatalog, DashboardService, SchedulerLease, DashboardScheduler],
})
export class MetricsModule {}
