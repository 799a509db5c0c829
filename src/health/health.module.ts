import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CoreChecks } from './core-checks';
import { HealthController } from './health.controller';
import { ReadinessService } from './readiness.service';

/**
 * The readiness registry and the Kubernetes probes. Every module that contributes a check imports this one; the
 * checks of a process are exactly those of the modules it runs.
 */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [ReadinessService, CoreChecks],
  exports: [ReadinessService],
})
export class HealthModule {}
