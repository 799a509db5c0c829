// The VK delivery outbox in MongoDB: a batch's events and their deliveries are stored before the poller moves `ts`,
// and every delivery stays here until its destination took it.
import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { backoffDelay } from '../common/backoff';
import type { VkEvent } from './vk-event';
import { isDuplicateKey } from '../common/duplicate-key';
import { VkDelivery, type VkDeliveryStatus, VkStoredEvent } from './vk.schemas';

export interface RoutedEvent {
  event: VkEvent;
  destinations: string[];
}

/** Delivered deliveries and event records older than this are removed. */
const RETENTION_MS = 7 * 24 * 3600 * 1000;

export function deliveryId(eventId: string, destination: string): string {
  return createHash('sha256').update(`${eventId}\n${destination}`).digest('hex').slice(0, 32);
}

@Injectable()
export class VkOutbox {
  constructor(
    @InjectModel(VkStoredEvent.name) private readonly events: Model<VkStoredEvent>,
    @InjectModel(VkDelivery.name) private readonly deliveries: Model<VkDelivery>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    // The _id indexes carry deduplication; the secondary ones serve the dispatcher and GET /vk/deliveries.
    await Promise.all([this.events.init(), this.deliveries.init()]);
  }

  /** Of these event ids, the ones already taken in (VK sends an update again after some failures). */
  async alreadyStored(eventIds: string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const found = await this.events.find({ _id: { $in: eventIds } }, { _id: 1 }).lean<{ _id: string }[]>();
    return new Set(found.map((doc) => doc._id));
  }

  /**
   * Stores new events with their deliveries. Deliveries go first and the event record last, so a crash in
   * between leaves the event unrecorded and the replayed batch completes it (delivery ids are deterministic).
   */
  async store(groupId: number, routed: RoutedEvent[], firstSeq: number): Promise<void> {
    const now = new Date();
    const deliveries = routed.flatMap(({ event, destinations }, index) =>
      destinations.map((destination) => ({
        _id: deliveryId(event.event_id, destination),
        eventId: event.event_id,
        destination,
        peerId: event.peer.bpid,
        seq: firstSeq + index,
        event,
        status: 'pending' as const,
        parked: false,
        attempts: 0,
        lastError: null,
        nextAttemptAt: now,
        createdAt: now,
        deliveredAt: null,
      })),
    );
    await insertIgnoringDuplicates(this.deliveries, deliveries);
    await insertIgnoringDuplicates(
      this.events,
      routed.map(({ event, destinations }) => ({
        _id: event.event_id,
        groupId,
        eventType: event.event_type,
        peerId: event.peer.bpid,
        destinations,
        receivedAt: now,
      })),
    );
  }

  /**
   * Undelivered deliveries that are not parked, oldest first: the dispatcher's work list. Asked per destination so a
   * destination that is down (and its growing backlog) never crowds the others out of the window; deliveries to a
   * destination no longer in the routes come last, to be parked.
   */
  async outstanding(destinations: readonly string[], limitPerDestination: number): Promise<VkDelivery[]> {
    const open = { status: { $in: ['pending', 'failed'] }, parked: false };
    const pages = await Promise.all([
      ...destinations.map((destination) =>
        this.deliveries
          .find({ ...open, destination })
          .sort({ seq: 1 })
          .limit(limitPerDestination)
          .lean<VkDelivery[]>(),
      ),
      this.deliveries
        .find({ ...open, destination: { $nin: [...destinations] } })
        .sort({ seq: 1 })
        .limit(limitPerDestination)
        .lean<VkDelivery[]>(),
    ]);
    return pages.flat();
  }

  async markDelivered(delivery: VkDelivery): Promise<void> {
    await this.deliveries.updateOne(
      { _id: delivery._id },
      { $set: { status: 'delivered', deliveredAt: new Date(), lastError: null, parked: false }, $inc: { attempts: 1 } },
    );
  }

  /** Records a failed attempt; a permanent failure parks the delivery, any other is retried after a backoff. */
  async markFailed(delivery: VkDelivery, reason: string, permanent: boolean): Promise<Date> {
    const attempts = delivery.attempts + 1;
    const { backoffBaseMs, backoffMaxMs } = this.config.outbox;
    const nextAttemptAt = new Date(Date.now() + backoffDelay(attempts, backoffBaseMs, backoffMaxMs));
    await this.deliveries.updateOne(
      { _id: delivery._id },
      { $set: { status: 'failed', lastError: reason.slice(0, 1000), parked: permanent, nextAttemptAt }, $inc: { attempts: 1 } },
    );
    return nextAttemptAt;
  }

  list(filter: { status?: VkDeliveryStatus; destination?: string; peerId?: number }, limit: number): Promise<VkDelivery[]> {
    const query: Record<string, unknown> = {};
    if (filter.status) query.status = filter.status;
    if (filter.destination) query.destination = filter.destination;
    if (filter.peerId !== undefined) query.peerId = filter.peerId;
    return this.deliveries.find(query).sort({ seq: 1 }).limit(limit).lean<VkDelivery[]>();
  }

  count(status: VkDeliveryStatus): Promise<number> {
    return this.deliveries.countDocuments({ status });
  }

  findById(id: string): Promise<VkDelivery | null> {
    return this.deliveries.findById(id).lean<VkDelivery>();
  }

  /** Makes an undelivered delivery due now (and unparks it). Null when there is no such delivery or it was delivered. */
  async retryNow(id: string): Promise<VkDelivery | null> {
    return this.deliveries
      .findOneAndUpdate({ _id: id, status: { $in: ['pending', 'failed'] } }, { $set: { parked: false, nextAttemptAt: new Date() } }, { new: true })
      .lean<VkDelivery>();
  }

  async removeOld(now = Date.now()): Promise<void> {
    const before = new Date(now - RETENTION_MS);
    await this.deliveries.deleteMany({ status: 'delivered', deliveredAt: { $lt: before } });
    await this.events.deleteMany({ receivedAt: { $lt: before } });
  }
}

/** insertMany that treats "already there" (duplicate _id) as success and rethrows anything else. */
async function insertIgnoringDuplicates<T>(model: Model<T>, docs: object[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await model.collection.insertMany(docs, { ordered: false });
  } catch (error) {
    const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    if (list.length > 0 && list.every(isDuplicateKey)) return;
    if (list.length === 0 && isDuplicateKey(error)) return;
    throw error;
  }
}
