import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Types } from 'mongoose';
import type { NotificationMessage } from './notification-message';

export interface DeliveryError {
  message: string;
  status?: number;
  code?: number;
  at: Date;
}

/** Where a notification stands on Discord, as its delivery jobs recorded it. */
export const DELIVERY_STATES = ['queued', 'sent', 'failed', 'deleted'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * What a client asked for: written only by the API (POST, PATCH, DELETE). What Discord shows is a separate
 * document (NotificationDelivery) written only by the outbox jobs, so the two writers never rewrite each other's
 * fields (FerretDB v1 applies an update as a read then a whole-document write).
 */
@Schema({ collection: 'notifications', timestamps: true, versionKey: false })
export class Notification {
  _id!: Types.ObjectId;

  @Prop({ required: true })
  channelId!: string;

  /** What Discord shows (or will show), always the latest accepted revision. */
  @Prop({ type: Object, required: true })
  message!: NotificationMessage;

  /** A fresh id per accepted content (not a counter: concurrent PATCHes never share one). */
  @Prop({ type: String, required: true })
  revision!: string;

  /** Set by DELETE: a queued notification is never sent, a sent one is deleted from Discord. */
  @Prop({ default: false })
  deleteRequested!: boolean;

  /**
   * Unique for every document, so the unique index needs no partial filter (FerretDB v1 has none): a client's
   * Idempotency-Key is stored as `key:<key>`, a request without one gets `auto:<id>`, and a client key older than
   * 24 hours is renamed to `expired:<id>:<key>` before the key is used again.
   */
  @Prop({ type: String, required: true })
  idempotencyKey!: string;

  @Prop({ type: Date, default: null })
  idempotencyExpiresAt!: Date | null;

  /**
   * SHA-256 of the request a client's Idempotency-Key was first used with (channel and message, keys sorted), so a
   * reuse of the key with another request is refused instead of answered with the first notification. Null without a
   * key, and on notifications stored before it was kept (those replay as before).
   */
  @Prop({ type: String, default: null })
  requestFingerprint!: string | null;

  createdAt!: Date;
  updatedAt!: Date;
}

export type NotificationDocument = HydratedDocument<Notification>;
export const NotificationSchema = SchemaFactory.createForClass(Notification);
NotificationSchema.index({ idempotencyKey: 1 }, { unique: true });

/** What Discord shows of a notification; `_id` is the notification's. Written by its outbox jobs, one at a time. */
@Schema({ collection: 'notification_deliveries', timestamps: true, versionKey: false })
export class NotificationDelivery {
  _id!: Types.ObjectId;

  @Prop({ type: String, required: true, enum: DELIVERY_STATES })
  state!: DeliveryState;

  @Prop({ type: String, default: null })
  messageId!: string | null;

  /** The revision Discord shows. */
  @Prop({ type: String, default: null })
  sentRevision!: string | null;

  /** Discord calls made. */
  @Prop({ required: true, default: 0 })
  attempts!: number;

  @Prop({ type: Object, default: null })
  lastError!: DeliveryError | null;

  /** When a failed call is tried again. */
  @Prop({ type: Date, default: null })
  nextAttemptAt!: Date | null;

  @Prop({ type: Date, default: null })
  sentAt!: Date | null;

  createdAt!: Date;
  updatedAt!: Date;
}

export const NotificationDeliverySchema = SchemaFactory.createForClass(NotificationDelivery);

/** Everything NotifyModule registers with MongooseModule.forFeature. */
export const NOTIFICATION_MODELS = [
  { name: Notification.name, schema: NotificationSchema },
  { name: NotificationDelivery.name, schema: NotificationDeliverySchema },
];
