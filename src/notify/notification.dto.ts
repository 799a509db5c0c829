import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, Matches, ValidateIf } from 'class-validator';
import { NullAsAbsent, OptionalNestedArray, OptionalWebUrl } from '../common/dto';
import { EmbedDto } from '../discord-api/embed.dto';
import { MaxChars } from '../discord-api/max-chars';
import { DISCORD_LIMITS } from '../discord-api/discord-limits';
import { UNKNOWN_CHANNEL_EXAMPLE } from '../discord-api/discord-rest';
import { OutboxJobViewDto } from '../outbox/outbox.dto';
import { EmbedsWithinTotalLimit, IsMessageShorthand, NeedsEmbed, shouldCheckMessage } from './notification-rules';

export const SEVERITIES = ['info', 'warning', 'error', 'success'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What a notification shows; shared by POST (send) and PATCH (replace what the sent message shows). */
export class NotificationContentDto {
  @ApiPropertyOptional({
    maxLength: DISCORD_LIMITS.content,
    example: 'Backup finished',
    description:
      'The simplest notification: plain text. Becomes the message text, or the description of one embed when ' +
      '`severity`, `username` or `avatarUrl` is given. Cannot be combined with `content` or `embeds`. ' +
      'One of `message`, `content` or `embeds` is required. Like every optional field here, `null` is read as absent.',
    nullable: true,
  })
  @NullAsAbsent()
  @ValidateIf(shouldCheckMessage)
  @IsMessageShorthand()
  message?: string;

  @ApiPropertyOptional({ maxLength: DISCORD_LIMITS.content, nullable: true, description: "The message text (Discord's `content`)." })
  @NullAsAbsent()
  @IsOptional()
  @IsString()
  @MaxChars(DISCORD_LIMITS.content)
  content?: string;

  @OptionalNestedArray(() => EmbedDto, DISCORD_LIMITS.embeds, {
    description: `Discord embeds. All of them together may hold at most ${DISCORD_LIMITS.embedsTotal} characters of text.`,
    nullable: true,
  })
  @NullAsAbsent()
  @EmbedsWithinTotalLimit()
  embeds?: EmbedDto[];

  @ApiPropertyOptional({
    enum: SEVERITIES,
    nullable: true,
    description: 'Colours the embeds that have no `color` of their own: info blue, warning yellow, error red, success green.',
  })
  @NullAsAbsent()
  @IsOptional()
  @IsIn(SEVERITIES)
  @NeedsEmbed()
  severity?: Severity;

  @ApiPropertyOptional({
    maxLength: DISCORD_LIMITS.authorName,
    nullable: true,
    description:
      'Shown as the author line of the (first) embed. A bot cannot change its own name per message the way a webhook can, so this needs `message` or `embeds`.',
  })
  @NullAsAbsent()
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxChars(DISCORD_LIMITS.authorName)
  @NeedsEmbed()
  username?: string;

  @OptionalWebUrl({ description: 'Icon of the author line, next to `username`.', nullable: true })
  @NullAsAbsent()
  @NeedsEmbed()
  avatarUrl?: string;
}

export class CreateNotificationDto extends NotificationContentDto {
  @ApiPropertyOptional({
    example: '123456789012345678',
    nullable: true,
    description: 'Target channel. Defaults to NOTIFY_DEFAULT_CHANNEL_ID (also when null); a 400 when neither is set.',
  })
  @NullAsAbsent()
  @IsOptional()
  @Matches(/^\d{15,21}$/, { message: 'channelId must be a Discord channel id (15-21 digits)' })
  channelId?: string;
}

export class EditNotificationDto extends NotificationContentDto {}

export const NOTIFICATION_STATES = ['queued', 'sent', 'failed', 'deleted'] as const;
export type NotificationState = (typeof NOTIFICATION_STATES)[number];

export const PENDING_OPERATIONS = ['create', 'edit', 'delete'] as const;
export type PendingOperation = (typeof PENDING_OPERATIONS)[number];

export class NotificationAcceptedDto {
  @ApiProperty({ example: '665f1c2e8b3e4a0012345678' })
  id!: string;

  @ApiProperty({ enum: NOTIFICATION_STATES, example: 'queued' })
  state!: NotificationState;
}

export class DeliveryErrorDto {
  @ApiProperty({ example: UNKNOWN_CHANNEL_EXAMPLE })
  message!: string;

  @ApiPropertyOptional({ description: 'HTTP status Discord answered with, when it answered.', example: 404 })
  status?: number;

  @ApiPropertyOptional({ description: "Discord's JSON error code.", example: 10003 })
  code?: number;

  @ApiProperty({ format: 'date-time' })
  at!: string;
}

export class NotificationSentDto {
  @ApiProperty({ example: '665f1c2e8b3e4a0012345678' })
  id!: string;

  @ApiProperty({ enum: ['sent'], example: 'sent' })
  state!: 'sent';

  @ApiProperty({ example: '1240000000000000000', description: "Discord's id of the message it accepted." })
  messageId!: string;

  @ApiProperty({ example: '123456789012345678' })
  channelId!: string;
}

export class NotifyQueryDto {
  @ApiPropertyOptional({
    type: Boolean,
    description:
      "Like Discord's own webhooks' `wait=true`: answer 200 with Discord's message id once Discord accepted the message, " +
      "or Discord's error (422 refused, 502 unreachable), instead of 202 at once. Waits at most NOTIFY_WAIT_TIMEOUT_MS.",
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'wait must be true or false' })
  wait?: boolean;
}

export class NotifyWaitErrorDto {
  @ApiProperty({ example: 422 }) statusCode!: number;
  @ApiProperty({ example: 'Unprocessable Entity' }) error!: string;
  @ApiProperty({ example: `Discord refused the message: ${UNKNOWN_CHANNEL_EXAMPLE}` })
  message!: string;
  @ApiProperty({ example: '665f1c2e8b3e4a0012345678', description: 'The stored notification (GET /notify/{id})' }) id!: string;
  @ApiProperty({
    enum: NOTIFICATION_STATES,
    description: '`failed` when refused; `queued` when Discord could not be reached in time (still retried)',
  })
  state!: NotificationState;
  @ApiPropertyOptional({ type: () => DeliveryErrorDto, nullable: true, description: "Discord's answer" }) discordError!: DeliveryErrorDto | null;
}

export class NotificationViewDto {
  @ApiProperty({ example: '665f1c2e8b3e4a0012345678' })
  id!: string;

  @ApiProperty({
    enum: NOTIFICATION_STATES,
    description:
      'queued: stored, waiting for its turn in the channel or retrying; sent: on Discord; failed: Discord refused it for good ' +
      '(see lastError); deleted: removed from Discord, or cancelled before it was sent.',
  })
  state!: NotificationState;

  @ApiPropertyOptional({
    enum: PENDING_OPERATIONS,
    nullable: true,
    description: 'The Discord call the worker still has to make for this notification (an accepted PATCH or DELETE shows here).',
  })
  pending!: PendingOperation | null;

  @ApiProperty({ example: '123456789012345678' })
  channelId!: string;

  @ApiPropertyOptional({ type: String, nullable: true, description: "Discord's message id once sent." })
  messageId!: string | null;

  @ApiProperty({ description: 'Calls made to Discord for this notification so far (each may include @discordjs/rest retries).' })
  attempts!: number;

  @ApiPropertyOptional({
    type: DeliveryErrorDto,
    nullable: true,
    description: 'Why the pending Discord call (or the refused one) failed; cleared once Discord took it (`attempts` still counts the tries).',
  })
  lastError!: DeliveryErrorDto | null;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true, description: 'When the pending Discord call is (next) due.' })
  nextAttemptAt!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true })
  sentAt!: string | null;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}

/** The most outbox jobs `GET /notify/{id}` lists (the create, then each edit or delete, and each retry of a parked one). */
export const MAX_JOBS_SHOWN = 100;

/** `GET /notify/{id}`: the view, and the outbox jobs that carry it, for an operator to find and retry a parked one. */
export class NotificationDetailDto extends NotificationViewDto {
  @ApiProperty({
    type: [OutboxJobViewDto],
    maxItems: MAX_JOBS_SHOWN,
    description:
      'The outbox jobs (queue `notify`) that carry this notification to Discord, oldest first: the create, then each edit ' +
      'or delete, and the job each retry made. A `parked` job says why in `lastError`; `POST /outbox/{id}/retry` with its ' +
      '`id` sends it again. Finished jobs are kept for OUTBOX_RETENTION_HOURS, parked ones until retried.',
  })
  jobs!: OutboxJobViewDto[];
}

/**
 * What Swagger's "Try it out" sends: whole requests Herald accepts, the first being the default. (Built from the
 * properties' own examples, a body would combine `message` with `content` and `embeds`, which a request may not.)
 * None names a channel: they go to NOTIFY_DEFAULT_CHANNEL_ID.
 */
export const NOTIFY_EXAMPLES = {
  "plain text (Kahuna's body)": { value: { message: 'Backup finished' } },
  'an embed with a severity colour': {
    value: {
      severity: 'warning',
      username: 'Backups',
      embeds: [
        {
          title: 'Backup took longer than usual',
          description: 'Nightly backup of **db-1** finished in 48 min (usually 12).',
          fields: [
            { name: 'Host', value: 'db-1', inline: true },
            { name: 'Size', value: '38 GB', inline: true },
          ],
        },
      ],
    },
  },
  'text and an embed': {
    value: {
      content: 'Release **v2.4.1** is out',
      severity: 'success',
      embeds: [{ title: 'Changelog', url: 'https://example.com/releases/v2.4.1' }],
    },
  },
};

/** PATCH /notify/{id}: what the message shows instead. */
export const NOTIFY_EDIT_EXAMPLES = {
  'plain text': { value: { message: 'Backup finished (verified at 04:10)' } },
  'an embed': { value: { severity: 'success', embeds: [{ title: 'Backup verified', description: 'Restore test passed.' }] } },
};
