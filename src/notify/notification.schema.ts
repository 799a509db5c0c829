import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Types } from 'mongoose';
import { NOTIFICATION_STATES, NotificationState, PENDING_OPERATIONS, PendingOperation } from './notification.dto';
import type { NotificationMessage } from './notification-message';

export interface DeliveryError {
  message: string;
  status?: number;
  code?: number;
  at: Date;
}

/** A lease no worker holds: the epoch, so "free or expired" is the single condition `leaseUntil <= now`. */
export const NO_LEASE = new Date(0);

@Schema({ collection: 'notifications', timestamps: true, versionKey: false })
export class Notification {
  _id!: Types.ObjectId;

  /** Acceptance order across all replicas; a channel's notifications are sent in this order. */
  @Prop({ required: true })
  seq!: number;

  @Prop({ required: true })
  channelId!: string;

  /** What Discord shows (or will show), always the latest accepted revision. */
  @Prop({ type: Object, required: true })
  message!: NotificationMessage;

  @Prop({ type: String, required: true, enum: NOTIFICATION_STATES })
  state!: NotificationState;

  /** The Discord call still owed; null when Discord shows the latest revision. */
  @Prop({ type: String, enum: [...PENDING_OPERATIONS, null], default: 'create' })
  pending!: PendingOperation | null;

  @Prop({ required: true, default: 1 })
  revision!: number;

  /** The revision Discord currently shows (0 before the first send). */
  @Prop({ required: true, default: 0 })
  sentRevision!: number;

  /** Set by a DELETE that arrives while the create is in flight; the worker deletes right after sending. */
  @Prop({ default: false })
  deleteRequested!: boolean;

  @Prop({ type: String, default: null })
  messageId!: string | null;

  @Prop({ required: true, default: 0 })
  attempts!: number;

  /** Consecutive transient failures of the pending operation; drives the backoff. */
  @Prop({ required: true, default: 0 })
  failures!: number;

  @Prop({ type: Object, default: null })
  lastError!: DeliveryError | null;

  @Prop({ type: Date, required: true })
  nextAttemptAt!: Date;

  /** How many times a worker has claimed it; the next claim inserts claim number `claims + 1`. */
  @Prop({ required: true, default: 0 })
  claims!: number;

  @Prop({ type: String, default: null })
  leaseOwner!: string | null;

  @Prop({ type: Date, required: true, default: () => NO_LEASE })
  leaseUntil!: Date;

  /**
   * Unique for every document, so the unique index needs no partial filter (FerretDB v1 has none): a client's
   * Idempotency-Key is stored as `key:<key>`, a request without one gets `auto:<id>`, and a client key older than
   * 24 hours is renamed to `expired:<id>:<key>` before the key is used again.
   */
  @Prop({ type: String, required: true })
  idempotencyKey!: string;

  @Prop({ type: Date, default: null })
  idempotencyExpiresAt!: Date | null;

  @Prop({ type: Date, default: null })
  sentAt!: Date | null;

  createdAt!: Date;
  updatedAt!: Date;
}

export type NotificationDocument = HydratedDocument<Notification>;

export const NotificationSchema = SchemaFactory.createForClass(Notification);
NotificationSchema.index({ idempotencyKey: 1 }, { unique: true });
// The worker's two questions: "what is the head of each channel's queue" and "which edits/deletes are due".
NotificationSchema.index({ state: 1, channelId: 1, seq: 1, _id: 1 });
NotificationSchema.index({ pending: 1, nextAttemptAt: 1 });

/** One counter document per sequence; `$inc` on it hands out acceptance order atomically. */
@Schema({ collection: 'notification_sequences', versionKey: false })
export class NotificationSequence {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true, default: 0 })
  value!: number;
}

export const NotificationSequenceSchema = SchemaFactory.createForClass(NotificationSequence);

/**
 * One document per claim of a notification by a worker, `_id` = `<notification id>:<claim number>`. Inserting it is
 * what makes a claim exclusive: a unique `_id` holds on MongoDB and on FerretDB alike, whereas FerretDB v1 runs
 * findAndModify as a read followed by a write (two workers can both "win" a findOneAndUpdate there).
 */
@Schema({ collection: 'notification_claims', versionKey: false })
export class NotificationClaim {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Types.ObjectId, required: true })
  notificationId!: Types.ObjectId;

  @Prop({ type: String, required: true })
  owner!: string;

  @Prop({ type: Date, required: true, index: true })
  at!: Date;
}

export const NotificationClaimSchema = SchemaFactory.createForClass(NotificationClaim);

/** Everything NotifyModule registers with MongooseModule.forFeature. */
export const NOTIFICATION_MODELS = [
  { name: Notification.name, schema: NotificationSchema },
  { name: NotificationSequence.name, schema: NotificationSequenceSchema },
  { name: NotificationClaim.name, schema: NotificationClaimSchema },
];
