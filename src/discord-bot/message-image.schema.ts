import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { HydratedDocument } from 'mongoose';
import type { DiscordMessageInput } from '../render/discord-message.input';

export const MESSAGE_IMAGE_STATES = ['pending', 'rendered', 'deleting', 'deleted'] as const;
/**
 * pending: the image of `revision` is being made (a job holds it); rendered: S3 holds the image of `revision`;
 * deleting: the message is gone, the object is being removed; deleted: nothing left to do.
 */
export type MessageImageState = (typeof MESSAGE_IMAGE_STATES)[number];

/**
 * One Discord message and its image. Written only by the outbox job of the message's lane that is running (one at a
 * time), so no write here needs to be atomic against another; `jobId` says which job a `pending`/`deleting` state
 * belongs to, so a job that runs again after a crash carries on with the same revision instead of starting another.
 */
@Schema({ collection: 'discord_message_images', timestamps: true, versionKey: false })
export class MessageImage {
  /**
   * The message id, so every read and write of a record is an `_id` lookup (a point read on MongoDB; on FerretDB v1
   * the cheapest scan there is, where a `messageId` filter decoded every record in Go). Records written before had an
   * ObjectId here; MessageImageStore moves them.
   */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true })
  messageId!: string;

  @Prop({ required: true })
  guildId!: string;

  @Prop({ required: true })
  channelId!: string;

  @Prop({ required: true })
  authorId!: string;

  /** Null on records made before names were kept. */
  @Prop({ type: String, default: null })
  guildName!: string | null;

  @Prop({ type: String, default: null })
  channelName!: string | null;

  @Prop({ type: String, default: null })
  jumpUrl!: string | null;

  /** S3 key, from DISCORD_IMAGE_KEY_TEMPLATE when the message was first seen (default discord/<guild>/<channel>/<message>.png) */
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

  /** Bumped whenever what is shown changes; part of the callback's idempotency key. */
  @Prop({ required: true, default: 1 })
  revision!: number;

  /** The revision S3 holds and the backend was told of; 0 before the first image. */
  @Prop({ required: true, default: 0 })
  renderedRevision!: number;

  /**
   * Whether a callback of this message was ever queued in the outbox (the backend down or refusing when it was owed):
   * the message's later callbacks then queue behind it instead of being delivered from the job that owes them. Set
   * before the callback is queued; absent on records written before callbacks were delivered in the job (read as true).
   */
  @Prop({ type: Boolean })
  callbacksQueued?: boolean;

  /** The outbox job working on `revision` (or on the delete). */
  @Prop({ type: String, default: null })
  jobId!: string | null;

  @Prop({ type: String, default: null })
  urn!: string | null;

  /** The image's public URL (S3_PUBLIC_URL) when it was stored. */
  @Prop({ type: String, default: null })
  url!: string | null;

  @Prop({ type: Date, required: true })
  messageCreatedAt!: Date;

  @Prop({ type: Date, default: null })
  editedAt!: Date | null;

  @Prop({ type: Date, default: null })
  deletedAt!: Date | null;
}

export type MessageImageDocument = HydratedDocument<MessageImage>;
export const MessageImageSchema = SchemaFactory.createForClass(MessageImage);
// Where catching up on a channel starts: its latest recorded message (MessageImageStore.newestIn).
MessageImageSchema.index({ channelId: 1, messageCreatedAt: -1, _id: -1 });
