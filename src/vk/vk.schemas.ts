import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { VkEvent, VkEventType } from './vk-event';

/** A lease nobody holds: the epoch, so "free or expired" is the single condition `leaseUntil < now`. */
export const NO_LEASE = new Date(0);

/**
 * One document per community: who may poll it (the lease), where polling resumes (`ts`) and the last delivery
 * sequence number handed out. Writing `ts` and taking sequence numbers both require holding the lease, so a
 * replica that lost it can not move the cursor.
 */
@Schema({ collection: 'vk_pollers', versionKey: false })
export class VkPollerState {
  /** The community id. */
  @Prop({ type: Number })
  _id!: number;

  @Prop({ type: String, default: null })
  holder!: string | null;

  @Prop({ type: Date, required: true, default: () => NO_LEASE })
  leaseUntil!: Date;

  /** The long-poll `ts` to continue from; null before the first poll. */
  @Prop({ type: String, default: null })
  ts!: string | null;

  @Prop({ required: true, default: 0 })
  seq!: number;

  @Prop({ type: Date, default: null })
  tsSavedAt!: Date | null;
}
export const VkPollerStateSchema = SchemaFactory.createForClass(VkPollerState);

/** An update Herald has taken in, keyed by VK's event_id: the record that deduplicates redelivered updates. */
@Schema({ collection: 'vk_events', versionKey: false })
export class VkStoredEvent {
  /** VK's event_id. */
  @Prop({ type: String })
  _id!: string;

  @Prop({ required: true })
  groupId!: number;

  @Prop({ type: String, required: true })
  eventType!: VkEventType;

  @Prop({ required: true })
  peerId!: number;

  /** Names of the destinations it was routed to. */
  @Prop({ type: [String], default: [] })
  destinations!: string[];

  @Prop({ type: Date, required: true })
  receivedAt!: Date;
}
export const VkStoredEventSchema = SchemaFactory.createForClass(VkStoredEvent);
VkStoredEventSchema.index({ receivedAt: 1 });

export const VK_DELIVERY_STATUSES = ['pending', 'failed', 'delivered'] as const;
export type VkDeliveryStatus = (typeof VK_DELIVERY_STATUSES)[number];

/**
 * One event on its way to one destination (the outbox). `pending` until its first attempt, `failed` after a failed
 * attempt (retried at `nextAttemptAt`; `parked` when retrying cannot help and only POST .../retry sends it again),
 * `delivered` once the destination took it.
 */
@Schema({ collection: 'vk_deliveries', versionKey: false })
export class VkDelivery {
  /** Derived from event id and destination, so storing a batch twice cannot create a second delivery. */
  @Prop({ type: String })
  _id!: string;

  @Prop({ type: String, required: true })
  eventId!: string;

  @Prop({ type: String, required: true })
  destination!: string;

  @Prop({ required: true })
  peerId!: number;

  /** Order of intake; a destination receives one peer's events in this order. */
  @Prop({ required: true })
  seq!: number;

  @Prop({ type: Object, required: true })
  event!: VkEvent;

  @Prop({ type: String, required: true, enum: VK_DELIVERY_STATUSES })
  status!: VkDeliveryStatus;

  @Prop({ required: true, default: false })
  parked!: boolean;

  @Prop({ required: true, default: 0 })
  attempts!: number;

  @Prop({ type: String, default: null })
  lastError!: string | null;

  @Prop({ type: Date, required: true })
  nextAttemptAt!: Date;

  @Prop({ type: Date, required: true })
  createdAt!: Date;

  @Prop({ type: Date, default: null })
  deliveredAt!: Date | null;
}
export const VkDeliverySchema = SchemaFactory.createForClass(VkDelivery);
VkDeliverySchema.index({ status: 1, seq: 1 });
VkDeliverySchema.index({ destination: 1, peerId: 1, seq: 1 });
