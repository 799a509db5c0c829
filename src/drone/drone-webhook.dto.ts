/**
 * Swagger descriptions of Drone's webhook body and our answers. The body is read from the raw bytes (the
 * signature covers them), so these classes document; the wire types live in drone-webhook.types.ts.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DRONE_STATUSES } from './drone-webhook.types';
import type { DroneBuild, DroneRepository, DroneStatus, DroneSystem, DroneWebhookPayload } from './drone-webhook.types';

class DroneStageDoc {
  @ApiProperty({ example: 'default' }) name!: string;
  @ApiProperty({ enum: DRONE_STATUSES, example: 'failure' }) status!: DroneStatus;
  @ApiPropertyOptional({ description: 'Steps with name and status', type: 'array', items: { type: 'object' } }) steps?: object[];
}

class DroneBuildDoc implements Omit<Partial<DroneBuild>, 'stages'> {
  @ApiProperty({ example: 1001, description: 'Unique per Drone server; with repo.id and system.host it keys the message' }) id!: number;
  @ApiProperty({ example: 42 }) number!: number;
  @ApiProperty({ enum: DRONE_STATUSES, example: 'success' }) status!: DroneStatus;
  @ApiProperty({ example: 'push', enum: ['push', 'pull_request', 'tag', 'promote', 'rollback', 'cron', 'custom'] }) event!: DroneBuild['event'];
  @ApiProperty({ example: 'refs/heads/main' }) ref!: string;
  @ApiProperty({ example: 'main' }) target!: string;
  @ApiProperty({ example: '9fceb02d0ae598e95dc970b74767f19372d61af8' }) after!: string;
  @ApiProperty({ example: 'Fix the flaky upload test' }) message!: string;
  @ApiProperty({ example: 'The Octocat' }) author_name!: string;
  @ApiProperty({ example: 'https://avatars.githubusercontent.com/u/583231' }) author_avatar!: string;
  @ApiProperty({ example: 1715679005, description: 'unix seconds, 0 until started' }) started!: number;
  @ApiProperty({ example: 1715679130, description: 'unix seconds, 0 until finished' }) finished!: number;
  @ApiProperty({ example: 1715679130 }) updated!: number;
  @ApiProperty({ example: 3, description: 'Drone\'s row version; orders snapshots of one build' }) version!: number;
  @ApiPropertyOptional({ type: [DroneStageDoc] }) stages?: DroneStageDoc[];
}

class DroneRepositoryDoc implements Partial<DroneRepository> {
  @ApiProperty({ example: 7 }) id!: number;
  @ApiProperty({ example: 'octocat/hello-world', description: 'Matched against DRONE_REPO_CHANNELS' }) slug!: string;
  @ApiProperty({ example: 'https://github.com/octocat/hello-world' }) link!: string;
}

class DroneSystemDoc implements DroneSystem {
  @ApiPropertyOptional({ example: 'https' }) proto?: string;
  @ApiPropertyOptional({ example: 'drone.example.com' }) host?: string;
  @ApiPropertyOptional({ example: 'https://drone.example.com', description: 'Build links are `${link}/${repo.slug}/${build.number}`' }) link?: string;
  @ApiPropertyOptional({ example: '2.26.0' }) version?: string;
}

export class DroneWebhookBodyDoc implements Pick<DroneWebhookPayload, 'event' | 'action'> {
  @ApiProperty({ example: 'build', description: 'Only `build` is shown; `repo` and `user` hooks are answered 202 and ignored' }) event!: string;
  @ApiProperty({ example: 'updated', description: '`created` posts the message, `updated` edits it' }) action!: string;
  @ApiProperty({ type: DroneRepositoryDoc }) repo!: DroneRepositoryDoc;
  @ApiProperty({ type: DroneBuildDoc }) build!: DroneBuildDoc;
  @ApiPropertyOptional({ type: DroneSystemDoc }) system?: DroneSystemDoc;
}

export class DroneWebhookResultDoc {
  @ApiProperty({
    enum: ['shown', 'queued', 'ignored'],
    description:
      '`shown`: the build\'s Discord message now shows its newest known state; `queued`: another delivery for this build is ' +
      'updating the message and will include this one; `ignored`: not a build event we show (see `reason`)',
  })
  outcome!: string;
  @ApiPropertyOptional({ example: 1001 }) buildId?: number;
  @ApiPropertyOptional({ enum: DRONE_STATUSES, description: 'Status in this delivery' }) status?: string;
  @ApiPropertyOptional({ enum: DRONE_STATUSES, description: 'Status the message shows (a late `running` never replaces a final one)' })
  shownStatus?: string | null;
  @ApiPropertyOptional({ example: '1240000000000000000' }) messageId?: string | null;
  @ApiPropertyOptional({ example: 'event repo:enabled is not a build being created or updated' }) reason?: string;
}

export class DroneWebhookErrorDoc {
  @ApiProperty({ example: 401 }) statusCode!: number;
  @ApiProperty({ example: 'Unauthorized' }) error!: string;
  @ApiProperty({ example: 'Digest does not match the request body' }) message!: string;
}
