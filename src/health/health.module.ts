import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TelemetryController } from '../common/telemetry.controller';
import { CoreChecks } from './core-checks';
import { HealthController } from './health.controller';
import { ReadinessService } from './readiness.service';

@Global()
@Module({
  imports: [TerminusModule],
  controllers: [HealthController, TelemetryController],
  providers: [ReadinessService, CoreChecks],
  exports: [ReadinessService],
})
export class HealthModule {}
