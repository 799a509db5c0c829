import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument, Types } from 'mongoose';
import type { DiscordMessageInput } from '../render/discord-message.input';

export const MESSAGE_IMAGE_STATES = ['pending', 'rendered', 'deleting', 'deleted'] as const;
/**
 * pending: the image for `revision` is owed (new message, shown content changed, or storage was down);
 * rendered: S3 holds the image of `revision`; deleting: the message is gone, the object still has to go;
 * deleted: nothing left to do.
 */
export type MessageImageState = (typeof MESSAGE_IMAGE_STATES)[number];

export type BackendEventName = 'created' | 'updated' | 'deleted';

/** What the backend receives, exactly as POSTed. */
export interface BackendCallback {
  event: BackendEventName;
  idempotencyKey: string;
  guildId: string;
  channelId: string;
  messageId: string;
  authorId: string;
  urn: string | null;
  createdAt: string;
  editedAt: string | null;
  deletedAt: string | null;
}

/** A lease nobody holds: the epoch, so "free or expired" is the single condition `leaseUntil <= now`. */
export const NO_LEASE = new Date(0);

/**
 * One Discord message and its image. The backend callbacks owed for it live in `outbox`, in this same document:
 * FerretDB has no transactions, and one document is updated atomically, so "the image is stored" and "the backend
 * must hear about it" are recorded together, and the callbacks of one message stay in order without extra locking.
 */
@Schema({ collection: 'discord_message_images', timestamps: true, versionKey: false })
export class MessageImage {
  _id!: Types.ObjectId;

  @Prop({ required: true, unique: true })
  messageId!: string;

  @Prop({ required: true })
  guildId!: string;

  @Prop({ required: true })
  channelId!: string;

  @Prop({ required: true })
  authorId!: string;

  /** S3 key: discord/<guild>/<channel>/<message>.png */
  @Prop({ required: true })
  key!: string;

  /** What the image shows (the latest revision), ready for the renderer. */
  @Prop({ type: Object, required: true })
  input!: DiscordMessageInput;

  /** Hash of what is shown, so an edit that changes nothing visible is not rendered again. */
  @Prop({ required: true })
  shownHash!: string;

  @Prop({ type: String, required: true, enum: MESSAGE_IMAGE_STATES })
  state!: MessageImageState;

  /** Bumped whenever what is shown changes. */
  @Prop({ required: true, default: 1 })
  revision!: number;

  /** The revision S3 holds; 0 before the first image. */
  @Prop({ required: true, default: 0 })
  renderedRevision!: number;

  @Prop({ type: String, default: null })
  urn!: string | null;

  /** A `created` callback has been queued; later images are `updated`, and a delete is worth telling. */
  @Prop({ required: true, default: false })
  announced!: boolean;

  @Prop({ type: Date, required: true })
  messageCreatedAt!: Date;

  @Prop({ type: Date, default: null })
  editedAt!: Date | null;

  @Prop({ type: Date, default: null })
  deletedAt!: Date | null;

  /** Consecutive failed render/delete attempts; drives the backoff. */
  @Prop({ required: true, default: 0 })
  attempts!: number;

  @Prop({ type: Date, required: true })
  nextAttemptAt!: Date;

  @Prop({ type: String, default: null })
  lastError!: string | null;

  @Prop({ type: String, default: null })
  leaseOwner!: string | null;

  @Prop({ type: Date, required: true, default: () => NO_LEASE })
  leaseUntil!: Date;

  /** Callbacks not yet acknowledged by the backend, oldest first. */
  @Prop({ type: [Object], default: [] })
  outbox!: BackendCallback[];

  /** outbox.length, kept alongside it because the due-delivery query needs an indexable field. */
  @Prop({ required: true, default: 0 })
  outboxCount!: number;

  @Prop({ type: Date, required: true, default: () => NO_LEASE })
  deliveryDueAt!: Date;

  @Prop({ required: true, default: 0 })
  deliveryAttempts!: number;

  @Prop({ type: String, default: null })
  lastDeliveryError!: string | null;

  @Prop({ type: String, default: null })
  deliveryLeaseOwner!: string | null;

  @Prop({ type: Date, required: true, default: () => NO_LEASE })
  deliveryLeaseUntil!: Date;
}

export type MessageImageDocument = HydratedDocument<MessageImage>;
export const MessageImageSchema = SchemaFactory.createForClass(MessageImage);
MessageImageSchema.index({ state: 1, nextAttemptAt: 1 });
MessageImageSchema.index({ outboxCount: 1, deliveryDueAt: 1 });
