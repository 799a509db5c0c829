/**
 * Swagger descriptions of Drone's webhook body and our answers. The body is read from the raw bytes (the
 * signature covers them), so these classes document; the wire types live in drone-webhook.types.ts.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DRONE_STATUSES } from './drone-webhook.types';
import type { DroneBuild, DroneRepository, DroneStatus, DroneSystem, DroneUser, DroneWebhookPayload } from './drone-webhook.types';

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
  @ApiProperty({ example: 3, description: "Drone's row version; orders snapshots of one build" }) version!: number;
  @ApiPropertyOptional({ type: [DroneStageDoc] }) stages?: DroneStageDoc[];
}

class DroneRepositoryDoc implements Partial<DroneRepository> {
  @ApiProperty({ example: 7 }) id!: number;
  @ApiProperty({ example: 'octocat/hello-world', description: 'Matched against DRONE_REPO_CHANNELS' }) slug!: string;
  @ApiProperty({ example: 'https://github.com/octocat/hello-world' }) link!: string;
}

class DroneUserDoc implements Partial<DroneUser> {
  @ApiProperty({ example: 'octocat' }) login!: string;
  @ApiPropertyOptional({ example: false }) admin?: boolean;
  @ApiPropertyOptional({ example: false }) machine?: boolean;
  @ApiPropertyOptional({ example: 'https://avatars.githubusercontent.com/u/583231' }) avatar?: string;
}

class DroneSystemDoc implements DroneSystem {
  @ApiPropertyOptional({ example: 'https' }) proto?: string;
  @ApiPropertyOptional({ example: 'drone.example.com' }) host?: string;
  @ApiPropertyOptional({ example: 'https://drone.example.com', description: 'Build links are `${link}/${repo.slug}/${build.number}`' }) link?: string;
  @ApiPropertyOptional({ example: '2.26.0' }) version?: string;
}

export class DroneWebhookBodyDoc implements Pick<DroneWebhookPayload, 'event' | 'action'> {
  @ApiProperty({ example: 'build', enum: ['build', 'repo', 'user'] }) event!: string;
  @ApiProperty({
    example: 'updated',
    description:
      'build: `created` posts the message, `updated` edits it; user: `created` / `deleted` and repo: `enabled` / `disabled` post one message each ' +
      '(DRONE_USER_MESSAGES, DRONE_REPO_MESSAGES); other actions are answered 202 and ignored',
  })
  action!: string;
  @ApiPropertyOptional({ type: DroneRepositoryDoc, description: 'build and repo events' }) repo?: DroneRepositoryDoc;
  @ApiPropertyOptional({ type: DroneBuildDoc, description: 'build events' }) build?: DroneBuildDoc;
  @ApiPropertyOptional({ type: DroneUserDoc, description: 'user events; on repo events the user who enabled or disabled it' }) user?: DroneUserDoc;
  @ApiPropertyOptional({ type: DroneSystemDoc }) system?: DroneSystemDoc;
}

export class DroneWebhookResultDoc {
  @ApiProperty({
    enum: ['shown', 'posted', 'queued', 'ignored'],
    description:
      "`shown`: the build's Discord message now shows its newest known state; `posted`: the user/repo message was posted; " +
      '`queued`: stored as outbox job `jobId` and still being delivered (retried in the background); `ignored`: not an event we show (see `reason`)',
  })
  outcome!: string;
  @ApiPropertyOptional({ example: '665f1c2ab0c4a3e1d2f00a11', description: 'The outbox job carrying this delivery' }) jobId?: string;
  @ApiPropertyOptional({ example: 'repo:enabled' }) event?: string;
  @ApiPropertyOptional({ example: 1001 }) buildId?: number;
  @ApiPropertyOptional({ enum: DRONE_STATUSES, description: 'Status in this delivery' }) status?: string;
  @ApiPropertyOptional({
    enum: DRONE_STATUSES,
    nullable: true,
    description: 'Status the message shows (a late `running` never replaces a final one); null before it was first drawn',
  })
  shownStatus?: string | null;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '1240000000000000000',
    description: "The message's Discord id; null before it was posted",
  })
  messageId?: string | null;
  @ApiPropertyOptional({ example: 'event build:deleted is not one Herald shows' }) reason?: string;
}

export class DroneWebhookErrorDoc {
  @ApiProperty({ example: 401 }) statusCode!: number;
  @ApiProperty({ example: 'Unauthorized' }) error!: string;
  @ApiProperty({ example: 'Digest does not match the request body' }) message!: string;
}
