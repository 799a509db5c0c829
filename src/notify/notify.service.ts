import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException, UnprocessableEntityException } from '@nestjs/common';
import mongoose, { Types } from 'mongoose';
import { DependencyUnavailableError } from '../common/errors';
import { isMongoUnreachable } from '../common/http-exception.filter';
import { APP_CONFIG, AppConfig } from '../config/config';
import { ReadinessService } from '../health/readiness.service';
import { Outbox } from '../outbox/outbox';
import { toJobView } from '../outbox/outbox.dto';
import { composeMessage, requestFingerprint } from './notification-message';
import { NOTIFY_QUEUE, NotificationSender } from './notification-sender';
import { CreateNotificationDto, EditNotificationDto, MAX_JOBS_SHOWN, NotificationDetailDto, NotificationViewDto } from './notification.dto';
import { DeliveryRecord, NotificationRecord, NotificationStore } from './notification.store';

/** Visible ASCII, as for any HTTP token-like header; long enough for a UUID plus a prefix. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@Injectable()
export class NotifyService {
  private readonly logger = new Logger(NotifyService.name);
  /** Resolves when the process starts shutting down: requests still waiting (`wait=true`) are answered then. */
  private readonly shutdownStarted: Promise<void>;

  constructor(
    private readonly store: NotificationStore,
    private readonly sender: NotificationSender,
    private readonly outbox: Outbox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    readiness: ReadinessService,
  ) {
    // On SIGTERM, before the HTTP drain: a request waiting for Discord (up to NOTIFY_WAIT_TIMEOUT_MS, longer than the
    // drain) is answered now as without `wait` (202, queued), instead of being cut off and sent again by its client.
    this.shutdownStarted = new Promise((resolve) => readiness.onStopping(resolve));
  }

  /**
   * Stores the notification and its create job (durably, before the client hears back) and leaves the sending to
   * the outbox. With `wait`, also waits (at most NOTIFY_WAIT_TIMEOUT_MS) until the job is finished.
   */
  async accept(
    request: CreateNotificationDto,
    idempotencyKey?: string,
    wait = false,
  ): Promise<{ notification: NotificationViewDto; replayed: boolean; waited: boolean }> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw fieldError('Idempotency-Key', 'Idempotency-Key must be 1-255 visible ASCII characters');
    }
    const channelId = request.channelId ?? this.config.notify.defaultChannelId;
    if (!channelId) throw fieldError('channelId', 'channelId is required: no default channel is configured (NOTIFY_DEFAULT_CHANNEL_ID)');

    const message = composeMessage(request);
    const fingerprint = idempotencyKey === undefined ? undefined : requestFingerprint(channelId, message);
    const id = new Types.ObjectId();
    const accepted = await this.againIfUnreachable(id, () =>
      this.store.accept({ channelId, message, idempotencyKey, requestFingerprint: fingerprint, id }),
    );
    const { notification, replayed } = accepted;
    if (accepted.replayed && !accepted.sameRequest) {
      this.logger.warn({ notificationId: notification._id.toHexString(), channelId }, 'Idempotency-Key reused for a different request; refused');
      throw new UnprocessableEntityException({
        statusCode: 422,
        error: 'Unprocessable Entity',
        message:
          'Validation failed: Idempotency-Key: this key was already used for a different request (another message or channel) ' +
          'within the last 24 hours; send a new key for a new notification, or the same request to get the first one back',
        errors: [{ field: 'Idempotency-Key', messages: ['this key was already used for a different request'] }],
        // The notification first stored under the key, as the documented 422 names it (id and state).
        id: notification._id.toHexString(),
        state: (await this.view(notification)).state,
      });
    }
    // Also for a replay: if the first request stopped between storing the notification and its job, this stores the job.
    const job = await this.againIfUnreachable(notification._id, () => this.sender.enqueueCreate(notification));
    const notificationId = notification._id.toHexString();
    if (replayed)
      this.logger.log({ notificationId, channelId: notification.channelId }, 'Idempotency-Key seen before; returning the first notification');
    else this.logger.log({ notificationId, channelId, seq: job.seq }, 'Notification accepted');
    const waited = wait && (await this.waitFor(job._id));
    // Accepted now (the job is stored): MongoDB going away from here on must not answer 503, or a client would send again.
    const view = await this.view(notification).catch((error: unknown) => {
      if (!(error instanceof Error && isMongoUnreachable(error))) throw error;
      return toView(notification, null);
    });
    return { notification: view, replayed, waited };
  }

  /**
   * Runs a step of storing a notification, and once more if the connection to MongoDB was lost during it (a write
   * whose answer was lost may have been applied; the step is idempotent under `id`). Still unreachable: 503 naming the id, since
   * whether the notification was stored is then unknown.
   */
  private async againIfUnreachable<T>(id: Types.ObjectId, step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (error) {
      // Only a connection lost during the write leaves its outcome unknown; no server to send it to (selection
      // failed) means nothing was written, and the usual 503 says to try again.
      if (!(error instanceof mongoose.mongo.MongoNetworkError)) throw error;
      this.logger.warn({ notificationId: id.toHexString(), err: error }, 'MongoDB went away while storing a notification; trying once more');
    }
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof Error && isMongoUnreachable(error))) throw error;
      throw new DependencyUnavailableError(
        'mongodb',
        `MongoDB became unreachable while this notification was being stored, so whether it was stored is unknown: after ` +
          `Retry-After, GET /notify/${id.toHexString()} tells (404: it was not, send it again; found: it will be sent, do not send it again)`,
        5,
        { id: id.toHexString() },
      );
    }
  }

  /** Until the job is finished or NOTIFY_WAIT_TIMEOUT_MS ran out (true), or shutdown began (false). */
  private async waitFor(jobId: Types.ObjectId): Promise<boolean> {
    const finished = this.outbox.whenFinished(jobId, this.config.notify.waitTimeoutMs).then(() => true);
    // Left behind at shutdown, its next poll may find MongoDB closed; nobody reads that answer any more.
    finished.catch(() => undefined);
    return Promise.race([finished, this.shutdownStarted.then(() => false)]);
  }

  /** The notification's view and its outbox jobs, so a parked one can be found and retried by its id. */
  async get(id: string): Promise<NotificationDetailDto> {
    const notification = await this.require(id);
    const delivery = await this.store.findDelivery(notification._id);
    // A notification stored while MongoDB went away before its job was (the client was answered 503 naming this id)
    // gets its job when the client looks, as the 503 promised: one with no job listed, never tried, and young enough
    // that a job it had is still kept (finished jobs are swept after OUTBOX_RETENTION_HOURS). The list is read anyway;
    // a GET of any other notification writes nothing.
    const listJobs = () => this.outbox.list(NOTIFY_QUEUE, { payload: { notificationId: id } }, { order: 'oldest', limit: MAX_JOBS_SHOWN });
    let jobs = await listJobs();
    const young = Date.now() - notification.createdAt.getTime() < this.config.outbox.retentionMs;
    if (jobs.items.length === 0 && !delivery && !notification.deleteRequested && young) {
      await this.sender.enqueueCreate(notification);
      jobs = await listJobs();
    }
    return { ...toView(notification, delivery), jobs: jobs.items.map(toJobView) };
  }

  private async current(id: string): Promise<NotificationViewDto> {
    return this.view(await this.require(id));
  }

  /**
   * Replaces what the notification shows. A queued notification is sent with the new content; a sent one gets an
   * edit job (same retries and rate limits as a send).
   */
  async edit(id: string, request: EditNotificationDto): Promise<NotificationViewDto> {
    const notification = await this.require(id);
    const current = await this.view(notification);
    if (current.state === 'failed') throw new ConflictException('This notification failed and never reached Discord; there is nothing to edit');
    if (notification.deleteRequested || current.state === 'deleted') {
      throw new ConflictException('This notification has been deleted (or a delete is under way); it cannot be edited');
    }
    if (!(await this.store.revise(notification._id, composeMessage(request)))) {
      throw new ConflictException('This notification has been deleted (or a delete is under way); it cannot be edited');
    }
    if (current.state === 'sent') await this.sender.enqueueChange(id);
    this.logger.log({ notificationId: id }, 'Notification edit accepted');
    return this.current(id);
  }

  /** Deletes the Discord message (through an outbox job), or cancels a notification that has not been sent yet. */
  async remove(id: string): Promise<NotificationViewDto> {
    const notification = await this.require(id);
    if (!notification.deleteRequested) {
      const before = await this.view(notification);
      await this.store.requestDelete(notification._id);
      if (before.state === 'sent') await this.sender.enqueueChange(id);
      this.logger.log(
        { notificationId: id, state: before.state },
        before.state === 'sent' ? 'Notification delete accepted' : 'Notification cancelled',
      );
    }
    return this.current(id);
  }

  private async view(notification: NotificationRecord): Promise<NotificationViewDto> {
    return toView(notification, await this.store.findDelivery(notification._id));
  }

  private async require(id: string): Promise<NotificationRecord> {
    const notification = Types.ObjectId.isValid(id) ? await this.store.find(id) : null;
    if (!notification) throw new NotFoundException(`No notification with id ${id}`);
    return notification;
  }
}

function fieldError(field: string, message: string): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: `Validation failed: ${field}: ${message}`,
    errors: [{ field, messages: [message] }],
  });
}

/**
 * The client's view, from what it asked for and what Discord shows: a DELETE of a notification not sent (or refused)
 * makes it `deleted` at once; the Discord call still owed shows as `pending`.
 */
export function toView(notification: NotificationRecord, delivery: DeliveryRecord | null): NotificationViewDto {
  const delivered = delivery?.state ?? 'queued';
  const cancelled = notification.deleteRequested && (delivered === 'queued' || delivered === 'failed');
  const state = cancelled ? 'deleted' : delivered;
  const pending =
    state === 'queued'
      ? 'create'
      : state !== 'sent'
        ? null
        : notification.deleteRequested
          ? 'delete'
          : notification.revision !== delivery?.sentRevision
            ? 'edit'
            : null;
  return {
    id: notification._id.toHexString(),
    state,
    pending,
    channelId: notification.channelId,
    messageId: delivery?.messageId ?? null,
    attempts: delivery?.attempts ?? 0,
    lastError: delivery?.lastError
      ? {
          message: delivery.lastError.message,
          ...(delivery.lastError.status !== undefined ? { status: delivery.lastError.status } : {}),
          ...(delivery.lastError.code !== undefined ? { code: delivery.lastError.code } : {}),
          at: new Date(delivery.lastError.at).toISOString(),
        }
      : null,
    nextAttemptAt: pending ? new Date(delivery?.nextAttemptAt ?? notification.createdAt).toISOString() : null,
    createdAt: new Date(notification.createdAt).toISOString(),
    sentAt: delivery?.sentAt ? new Date(delivery.sentAt).toISOString() : null,
    updatedAt: new Date(Math.max(new Date(notification.updatedAt).getTime(), delivery ? new Date(delivery.updatedAt).getTime() : 0)).toISOString(),
  };
}
