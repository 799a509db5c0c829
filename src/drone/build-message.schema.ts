import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { HydratedDocument, Schema as MongooseSchema } from 'mongoose';
import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import type { DroneStatus } from './drone-webhook.types';

/** Whether Discord shows what the record wants it to show. */
export type BuildMessageDelivery = 'pending' | 'sent' | 'failed';

/**
 * One Discord message per Drone build. `desired*` is the newest snapshot any delivery brought (only ever
 * raised, by `desiredOrder`); `synced*` is what the Discord message shows. Whoever holds the lease brings the
 * message up to `desiredOrder`; everyone else just raises it.
 */
@Schema({ collection: 'drone_build_messages', timestamps: true, minimize: false })
export class BuildMessage {
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

  /** The build's status in the newest snapshot. */
  @Prop({ type: String, required: true })
  status!: DroneStatus;

  /** Drone's `build.updated` of the newest snapshot. */
  @Prop({ type: Date, required: true })
  buildUpdatedAt!: Date;

  @Prop({ type: String, default: '' })
  desiredOrder!: string;

  @Prop({ type: MongooseSchema.Types.Mixed, required: true })
  desiredMessage!: RESTPostAPIChannelMessageJSONBody;

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

  @Prop({ type: String, default: null })
  leaseOwner!: string | null;

  @Prop({ type: Date, default: null })
  leaseUntil!: Date | null;

  createdAt!: Date;
  updatedAt!: Date;
}

export type BuildMessageDocument = HydratedDocument<BuildMessage>;

export const BuildMessageSchema = SchemaFactory.createForClass(BuildMessage);
BuildMessageSchema.index({ droneHost: 1, repoId: 1, buildId: 1 }, { unique: true, name: 'drone_build_unique' });
BuildMessageSchema.index({ delivery: 1, updatedAt: 1 }, { name: 'drone_build_delivery' });
