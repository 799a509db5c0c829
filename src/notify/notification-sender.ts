import { DiscordAPIError, RateLimitError } from '@discordjs/rest';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Types } from 'mongoose';
import { backoffDelay } from '../common/backoff';
import { telemetry } from '../telemetry/telemetry';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DiscordRest, describeDiscordError, isPermanentDiscordError } from '../discord-api/discord-rest';
import { Outbox, OutboxJobRun, OutboxOutcome, outcome } from '../outbox/outbox';
import { createBody, editBody } from './notification-message';
import { DeliveryError } from './notification.schema';
import { DeliveryRecord, NotificationRecord, NotificationStore } from './notification.store';

export const NOTIFY_QUEUE = 'notify';
const UNKNOWN_MESSAGE = 10008;

/** `create` runs in the channel's lane (acceptance order); `change` (edit or delete) in the message's own lane. */
export interface NotificationJob {
  notificationId: string;
  operation: 'create' | 'change';
}

type Verdict = { retry: false; gone: boolean } | { retry: true; delayMs: number };

const deliveries = telemetry.counter('herald_notify_discord_calls_total', 'Discord calls made for notifications, by outcome', [
  'operation',
  'outcome',
]);

export const channelLane = (channelId: string) => `notify:channel:${channelId}`;
export const messageLane = (notificationId: string) => `notify:message:${notificationId}`;

/**
 * Sends notifications to Discord as outbox jobs. A channel's creates share one lane, so they go out one after another
 * in acceptance order (the lane's seq); a sent message's edits and deletes run in its own lane. A job may run again
 * after a crash: the create's nonce makes Discord hand back the message it already made instead of a second one.
 */
@Injectable()
export class NotificationSender implements OnModuleInit {
  private readonly logger = new Logger(NotificationSender.name);

  constructor(
    private readonly store: NotificationStore,
    private readonly discord: DiscordRest,
    private readonly outbox: Outbox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.outbox.register<NotificationJob>(NOTIFY_QUEUE, (job) => this.run(job));
  }

  /** The create job of a notification; enqueueing it again (a replayed request) returns the same job. */
  enqueueCreate(notification: NotificationRecord) {
    const notificationId = notification._id.toHexString();
    return this.outbox.enqueue<NotificationJob>({
      queue: NOTIFY_QUEUE,
      lane: channelLane(notification.channelId),
      key: `notify:create:${notificationId}`,
      payload: { notificationId, operation: 'create' },
    });
  }

  /** An accepted PATCH or DELETE of a sent message (or one that arrived while it was being sent). */
  enqueueChange(notificationId: string) {
    return this.outbox.enqueue<NotificationJob>({
      queue: NOTIFY_QUEUE,
      lane: messageLane(notificationId),
      payload: { notificationId, operation: 'change' },
    });
  }

  private async run(job: OutboxJobRun<NotificationJob>): Promise<OutboxOutcome> {
    const id = new Types.ObjectId(job.payload.notificationId);
    const notification = await this.store.find(id);
    if (!notification) return outcome.done();
    const delivery = await this.store.findDelivery(id);
    return job.payload.operation === 'create' ? this.create(notification, delivery) : this.change(notification, delivery);
  }

  private async create(notification: NotificationRecord, delivery: DeliveryRecord | null): Promise<OutboxOutcome> {
    const id = notification._id;
    const notificationId = id.toHexString();
    // Sent or deleted already (this job ran before and recorded it); a refused one is sent again by POST /outbox/{id}/retry.
    if (delivery && delivery.state !== 'queued' && delivery.state !== 'failed') return outcome.done({ messageId: delivery.messageId });
    if (notification.deleteRequested) {
      // Deleted by a client while it waited; it never reaches Discord.
      await this.store.recordDelivery(id, { state: 'deleted', nextAttemptAt: null });
      return outcome.done();
    }
    const attempts = (delivery?.attempts ?? 0) + 1;
    let messageId: string;
    try {
      messageId = (await this.discord.createMessage(notification.channelId, createBody(notification.message, notificationId))).id;
    } catch (error) {
      return this.failed(notification, 'create', attempts, error);
    }
    deliveries.inc({ operation: 'create', outcome: 'ok' });
    await this.store.recordDelivery(id, {
      state: 'sent',
      messageId,
      sentRevision: notification.revision,
      sentAt: new Date(),
      attempts,
      // Sent: an earlier failure is over (attempts still shows the tries); lastError only ever says what is wrong now.
      lastError: null,
      nextAttemptAt: null,
    });
    this.logger.log({ notificationId, channelId: notification.channelId, messageId, operation: 'create' }, 'Notification delivered to Discord');
    // A PATCH or DELETE that arrived while the create was in flight becomes the next Discord call.
    const now = await this.store.find(id);
    if (now && (now.deleteRequested || now.revision !== notification.revision)) await this.enqueueChange(notificationId);
    return outcome.done({ messageId });
  }

  /** Brings a sent message up to what the client last asked for: deleted, or showing the newest revision. */
  private async change(notification: NotificationRecord, delivery: DeliveryRecord | null): Promise<OutboxOutcome> {
    const id = notification._id;
    if (!delivery || delivery.state !== 'sent' || !delivery.messageId) return outcome.done();
    const attempts = delivery.attempts + 1;
    const operation = notification.deleteRequested ? 'delete' : 'edit';
    if (operation === 'edit' && notification.revision === delivery.sentRevision) return outcome.done({ messageId: delivery.messageId });
    try {
      if (operation === 'delete') await this.deleteMessage(notification.channelId, delivery.messageId);
      else await this.discord.editMessage(notification.channelId, delivery.messageId, editBody(notification.message));
    } catch (error) {
      return this.failed(notification, operation, attempts, error);
    }
    deliveries.inc({ operation, outcome: 'ok' });
    await this.store.recordDelivery(
      id,
      operation === 'delete'
        ? { state: 'deleted', attempts, lastError: null, nextAttemptAt: null }
        : { sentRevision: notification.revision, attempts, lastError: null, nextAttemptAt: null },
    );
    this.logger.log(
      { notificationId: id.toHexString(), channelId: notification.channelId, messageId: delivery.messageId, operation },
      'Notification delivered to Discord',
    );
    return outcome.done({ messageId: delivery.messageId });
  }

  private async deleteMessage(channelId: string, messageId: string): Promise<void> {
    try {
      await this.discord.deleteMessage(channelId, messageId);
    } catch (error) {
      // Already gone (deleted by a person in Discord): the client's wish is fulfilled.
      if (!(error instanceof DiscordAPIError && error.code === UNKNOWN_MESSAGE)) throw error;
    }
  }

  /**
   * Discord refused for good: a refused create ends as `failed` and its job is parked (GET /outbox); a refused edit or
   * delete leaves the message as it is, unless Discord says it no longer exists. Anything else is retried.
   */
  private async failed(
    notification: NotificationRecord,
    operation: 'create' | 'edit' | 'delete',
    attempts: number,
    error: unknown,
  ): Promise<OutboxOutcome> {
    const id = notification._id;
    const failure = toDeliveryError(error);
    const verdict = judge(error, attempts, this.config);
    const log = { notificationId: id.toHexString(), channelId: notification.channelId, operation, attempts, error: failure.message };
    if (!verdict.retry) {
      deliveries.inc({ operation, outcome: 'refused' });
      this.logger.warn(log, 'Discord refused the notification');
      const state = operation === 'create' ? 'failed' : verdict.gone ? 'deleted' : undefined;
      await this.store.recordDelivery(id, { ...(state ? { state } : {}), attempts, lastError: failure, nextAttemptAt: null });
      return verdict.gone ? outcome.done() : outcome.park(failure.message);
    }
    deliveries.inc({ operation, outcome: 'retry' });
    this.logger.warn({ ...log, retryInMs: verdict.delayMs }, 'Discord call failed; retrying later');
    await this.store.recordDelivery(id, {
      ...(operation === 'create' ? { state: 'queued' as const } : {}),
      attempts,
      lastError: failure,
      nextAttemptAt: new Date(Date.now() + verdict.delayMs),
    });
    return outcome.retry(failure.message, verdict.delayMs);
  }
}

/**
 * Permanent: Discord answered with a client error that no retry fixes (unknown channel, missing access, invalid
 * body). Everything else is retried without limit, so a notification is never dropped because @discordjs/rest ran
 * out of its own retries (it gives up on 5xx after `retries` immediate attempts). A 401 is retried too: the fix is a
 * new token and a restart, after which the queue should still go out.
 */
export function judge(error: unknown, failures: number, config: Pick<AppConfig, 'outbox'>): Verdict {
  if (error instanceof DiscordAPIError && error.status !== 401 && isPermanentDiscordError(error)) {
    return { retry: false, gone: error.code === UNKNOWN_MESSAGE };
  }
  if (error instanceof RateLimitError) return { retry: true, delayMs: Math.max(error.retryAfter, config.outbox.backoffBaseMs) };
  return { retry: true, delayMs: backoffDelay(failures, config.outbox.backoffBaseMs, config.outbox.backoffMaxMs) };
}

export function toDeliveryError(error: unknown): DeliveryError {
  const status = typeof (error as { status?: unknown })?.status === 'number' ? (error as { status: number }).status : undefined;
  const code = error instanceof DiscordAPIError && typeof error.code === 'number' ? error.code : undefined;
  return {
    message: describeDiscordError(error),
    at: new Date(),
    ...(status !== undefined ? { status } : {}),
    ...(code !== undefined ? { code } : {}),
  };
}
