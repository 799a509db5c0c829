import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CoreChecks } from './core-checks';
import { HealthController } from './health.controller';
import { MongoMonitorWatch } from './mongodb-monitor-watch';
import { ReadinessService } from './readiness.service';
import { ServiceIndexController } from './service-index.controller';

/**
 * The readiness registry and the Kubernetes probes. Every module that contributes a check imports this one; the
 * checks of a process are exactly those of the modules it runs. Every process also gets the MongoDB check and the watch
 * that restarts the MongoDB client when the driver stops monitoring (MongoMonitorWatch), and `GET /`: the service's
 * index (version, roles, features, where the documentation is).
 */
@Module({
  // Terminus's own error line per failed probe (hundreds per outage, its JSON escaped into `msg`) is off: ReadinessService
  // logs one structured line per change instead.
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [ServiceIndexController, HealthController],
  providers: [ReadinessService, CoreChecks, MongoMonitorWatch],
  exports: [ReadinessService],
})
export class HealthModule {}
