import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, describeFeatures, type AppConfig } from '../config/config';

/** Herald's version, from the package.json beside `dist/` (the image copies it there, as does a checkout). */
export const HERALD_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();

class FeatureSummaryDto {
  @ApiProperty({ example: 'notify' })
  name!: string;

  @ApiProperty({ example: false })
  on!: boolean;

  @ApiProperty({ example: 'set DISCORD_TOKEN', description: 'The settings that turned it on, or what it lacks to be on' })
  because!: string;
}

class ProbePathsDto {
  @ApiProperty({ example: '/health/live' })
  live!: string;

  @ApiProperty({ example: '/health/ready' })
  ready!: string;
}

class ServiceIndexDto {
  @ApiProperty({ example: 'Herald' })
  service!: string;

  @ApiProperty({ example: '0.1.0' })
  version!: string;

  @ApiProperty({ example: ['api', 'discord', 'vk'], description: 'HERALD_ROLES of this process' })
  roles!: string[];

  @ApiProperty({ example: '/docs', description: 'Swagger UI: every endpoint, with "try it out"' })
  docs!: string;

  @ApiProperty({ example: '/docs-json' })
  openapi!: string;

  @ApiProperty({ type: ProbePathsDto, description: 'The Kubernetes probes' })
  health!: ProbePathsDto;

  @ApiProperty({ type: [FeatureSummaryDto], description: 'The same list as the start-up line "Features on: … Off: …"' })
  features!: FeatureSummaryDto[];
}

/**
 * What a person meets at Herald's address: the service, its version, where the API is described, and which features
 * this process runs (what an endpoint of a feature that is off answers anyway, in its 503).
 */
@ApiTags('health')
@Controller()
export class ServiceIndexController {
  /** Built once: the configuration it reads never changes while the process runs. */
  private readonly answer: ServiceIndexDto;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.answer = {
      service: 'Herald',
      version: HERALD_VERSION,
      roles: [...config.roles],
      docs: '/docs',
      openapi: '/docs-json',
      health: { live: '/health/live', ready: '/health/ready' },
      features: describeFeatures(config).map(({ name, on, because }) => ({ name, on, because })),
    };
  }

  @Get()
  @ApiOperation({ summary: "Herald's index: version, roles, the features this process runs, and where the API documentation and probes are" })
  @ApiOkResponse({ type: ServiceIndexDto })
  index(): ServiceIndexDto {
    return this.answer;
  }
}
