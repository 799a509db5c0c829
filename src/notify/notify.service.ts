import { BadRequestException, ConflictException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { NotificationDeliveryWorker } from './notification-delivery.worker';
import { composeMessage } from './notification-message';
import { CreateNotificationDto, EditNotificationDto, NotificationViewDto } from './notification.dto';
import { NotificationRecord, NotificationStore } from './notification.store';

/** Visible ASCII, as for any HTTP token-like header; long enough for a UUID plus a prefix. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

@Injectable()
export class NotifyService {
  private readonly logger = new Logger(NotifyService.name);

  constructor(
    private readonly store: NotificationStore,
    private readonly worker: NotificationDeliveryWorker,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Stores the notification (durably, before the client hears back) and leaves the sending to the worker. */
  async accept(request: CreateNotificationDto, idempotencyKey?: string): Promise<{ notification: NotificationViewDto; replayed: boolean }> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw fieldError('Idempotency-Key', 'Idempotency-Key must be 1-255 visible ASCII characters');
    }
    const channelId = request.channelId ?? this.config.notify.defaultChannelId;
    if (!channelId) throw fieldError('channelId', 'channelId is required: no default channel is configured (NOTIFY_DEFAULT_CHANNEL_ID)');

    const { notification, replayed } = await this.store.accept({ channelId, message: composeMessage(request), idempotencyKey });
    const notificationId = notification._id.toHexString();
    if (replayed) {
      this.logger.log({ notificationId, channelId: notification.channelId }, 'Idempotency-Key seen before; returning the first notification');
    } else {
      this.logger.log({ notificationId, channelId, seq: notification.seq }, 'Notification accepted');
      this.worker.channelHasWork(channelId);
    }
    return { notification: toView(notification), replayed };
  }

  async get(id: string): Promise<NotificationViewDto> {
    return toView(await this.require(id));
  }

  /**
   * Replaces what the notification shows. Accepted and applied by the worker like the first send (same retries and
   * rate limits); while it is still queued, the new text simply goes out in its place.
   */
  async edit(id: string, request: EditNotificationDto): Promise<NotificationViewDto> {
    const notification = await this.require(id);
    const message = composeMessage(request);
    const revised =
      (await this.store.reviseQueued(notification._id, message)) || (await this.store.reviseSent(notification._id, message));
    if (!revised) {
      const current = await this.require(id);
      if (current.state === 'failed') throw new ConflictException('This notification failed and never reached Discord; there is nothing to edit');
      throw new ConflictException('This notification has been deleted (or a delete is under way); it cannot be edited');
    }
    this.logger.log({ notificationId: id }, 'Notification edit accepted');
    this.worker.wake();
    return toView(await this.require(id));
  }

  /** Deletes the Discord message (through the worker), or cancels a notification that has not been sent yet. */
  async remove(id: string): Promise<NotificationViewDto> {
    const notification = await this.require(id);
    if (notification.state !== 'deleted') {
      const cancelled = await this.store.cancelQueued(notification._id);
      if (!cancelled) await this.store.requestDelete(notification._id);
      this.logger.log({ notificationId: id, cancelled }, cancelled ? 'Queued notification cancelled' : 'Notification delete accepted');
      this.worker.wake();
    }
    return toView(await this.require(id));
  }

  private async require(id: string): Promise<NotificationRecord> {
    const notification = await this.store.find(id);
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

export function toView(record: NotificationRecord): NotificationViewDto {
  return {
    id: record._id.toHexString(),
    state: record.state,
    pending: record.pending,
    channelId: record.channelId,
    messageId: record.messageId,
    attempts: record.attempts,
    lastError: record.lastError
      ? {
          message: record.lastError.message,
          ...(record.lastError.status !== undefined ? { status: record.lastError.status } : {}),
          ...(record.lastError.code !== undefined ? { code: record.lastError.code } : {}),
          at: new Date(record.lastError.at).toISOString(),
        }
      : null,
    nextAttemptAt: record.pending ? new Date(record.nextAttemptAt).toISOString() : null,
    createdAt: new Date(record.createdAt).toISOString(),
    sentAt: record.sentAt ? new Date(record.sentAt).toISOString() : null,
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}
