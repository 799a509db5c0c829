import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ReadinessService } from './readiness.service';

/** Kubernetes probes. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly readiness: ReadinessService,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: 200 while the process is up. Touches no dependency.' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: MongoDB (ping), S3 (the bucket answers), the browser pool (a page can be leased) and every enabled feature.',
    description:
      "Answers 503 only for what is this replica's own: start-up not finished (the check reads `starting`), shutting down " +
      '(`shutdown`), or its own Chromium (`browser`) where its role renders; each is named under `error` with its reason. ' +
      'A failed shared dependency (mongodb, storage, rabbitmq, redis, backend, discord, vk, vk-long-poll) keeps the ' +
      'replica in rotation: 200, named under `info` with `degraded: true` and its reason; the requests that need it get ' +
      '503 with `Retry-After` and `dependency`.',
  })
  async ready() {
    // One shared run of the checks feeds the probe and the bot's presence alike.
    const report = await this.readiness.check();
    return this.health.check(
      report.outcomes.map((outcome) => async () => {
        const session = this.indicator.check(outcome.name);
        if (outcome.up) return session.up();
        if (!outcome.required) return session.up({ degraded: true, message: outcome.message });
        return session.down({ message: outcome.message });
      }),
    );
  }
}
