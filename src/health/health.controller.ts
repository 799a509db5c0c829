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
      'A failed required check answers 503 and names it under `error` with its reason. A failed optional check stays 200, ' +
      'reported under `info` with `degraded: true`.',
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
