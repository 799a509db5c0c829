import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument } from 'mongoose';
import type { DroneStatus } from './drone-webhook.types';

/** Whether Discord shows the newest snapshot: `failed` after Discord refused for good (the job is parked). */
export type BuildMessageDelivery = 'pending' | 'sent' | 'failed';

/**
 * One Discord message per Drone build, and what it shows. Created by the first delivery (which picks the channel);
 * after that written only by the build's outbox handler, which runs one job of the build's lane at a time, so no two
 * writers ever race on a record (FerretDB v1 writes an update as a read then a whole-document write).
 */
@Schema({ collection: 'drone_build_messages', timestamps: true, minimize: false })
export class BuildMessage {
  /**
   * `repoId/buildId/droneHost` (buildRecordId), so every read and write of a record is an `_id` lookup: a point read on
   * MongoDB, and on FerretDB v1 the cheapest scan there is, where a filter on the three fields decoded every record in
   * Go. Records written before had an ObjectId here; BuildMessageStore moves them.
   */
  @Prop({ type: String, required: true })
  _id!: string;

  /** Drone server host (`system.host`), so two Drone servers never share a record. */
  @Prop({ required: true })
  droneHost!: string;

  @Prop({ required: true })
  repoId!: number;

  @Prop({ required: true })
  buildId!: number;

  @Prop({ required: true })
  repoSlug!: string;

  @Prop({ required: true })
  buildNumber!: number;

  @Prop({ required: true })
  channelId!: string;

  @Prop({ type: String, default: null })
  messageId!: string | null;

  /** The build's status in the newest snapshot shown. */
  @Prop({ type: String, required: true })
  status!: DroneStatus;

  /** Drone's `build.updated` of the newest snapshot shown. */
  @Prop({ type: Date, required: true })
  buildUpdatedAt!: Date;

  /** Order of the snapshot the message shows (see buildSnapshotOrder); an older snapshot never replaces it. */
  @Prop({ type: String, default: '' })
  syncedOrder!: string;

  @Prop({ type: String, default: null })
  syncedStatus!: DroneStatus | null;

  @Prop({ type: String, default: 'pending' })
  delivery!: BuildMessageDelivery;

  @Prop({ type: String, default: null })
  lastError!: string | null;

  @Prop({ default: 0 })
  failedAttempts!: number;

  createdAt!: Date;
  updatedAt!: Date;
}

export type BuildMessageDocument = HydratedDocument<BuildMessage>;

export const BuildMessageSchema = SchemaFactory.createForClass(BuildMessage);
BuildMessageSchema.index({ delivery: 1, updatedAt: 1 }, { name: 'drone_build_delivery' });
/** The bot's /herald build: a repository's newest build, and its repositories for autocompletion. */
BuildMessageSchema.index({ repoSlug: 1, buildNumber: -1 }, { name: 'drone_build_by_repo' });
