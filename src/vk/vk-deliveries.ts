import { createHash } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { telemetry } from '../telemetry/telemetry';
import { Outbox, type OutboxJobRun, type OutboxOutcome, outcome } from '../outbox/outbox';
import { DeliveryFailure } from './vk-delivery-failure';
import { VkDeliverySender } from './vk-delivery.sender';
import type { VkEvent } from './vk-event';
import { type UnreadableUpdate, VkReader } from './vk-reader';
import type { VkUpdate } from './vk-wire';

export const VK_QUEUE = 'vk';
/** Updates Herald could not read, parked with their raw form: a retry reads them again (after an upgrade, say). */
export const VK_UNREADABLE_QUEUE = 'vk-unreadable';

/** An update that could not be read, kept as VK sent it. */
export interface VkUnreadableJob {
  update: VkUpdate;
}

/** One event on its way to one destination: an outbox job of the `vk` queue. */
export interface VkDeliveryJob {
  /** Stable across runs and retries: the HTTP destination's X-Herald-Delivery-Id and the Discord nonce. */
  deliveryId: string;
  destination: string;
  peerId: number;
  event: VkEvent;
}

export interface RoutedEvent {
  event: VkEvent;
  destinations: string[];
}

/** One peer's events reach each destination in order: a lane per (destination, peer). */
export const vkLane = (destination: string, peerId: number) => `vk:${destination}:${peerId}`;

export function deliveryId(eventId: string, destination: string): string {
  return createHash('sha256').update(`${eventId}\n${destination}`).digest('hex').slice(0, 32);
}

const deliveriesTotal = telemetry.counter('herald_vk_deliveries_total', 'VK event deliveries by destination and outcome', ['destination', 'outcome']);
const deliverySeconds = telemetry.histogram('herald_vk_delivery_seconds', 'Time to hand one VK event to a destination', ['type']);

/**
 * VK deliveries as outbox jobs: the poller stores each batch's deliveries here before it moves `ts`, and every
 * replica with the `vk` role runs them (the outbox's claims decide which). A failure that retrying can fix holds its
 * lane and is retried with the shared backoff; a permanent one is parked with its reason (GET /outbox).
 */
@Injectable()
export class VkDeliveries implements OnModuleInit {
  constructor(
    private readonly outbox: Outbox,
    private readonly sender: VkDeliverySender,
    private readonly reader: VkReader,
  ) {}

  onModuleInit(): void {
    this.outbox.register<VkDeliveryJob>(VK_QUEUE, (job) => this.deliver(job));
    this.outbox.register<VkUnreadableJob>(VK_UNREADABLE_QUEUE, (job) => this.readAgain(job));
  }

  /**
   * Parks each unreadable update with its reason and its raw form, before the batch's `ts` moves on: nothing VK sent
   * is dropped. One lane for all (they are independent); the key is the event id, so a batch polled again parks none
   * twice. POST /outbox/{id}/retry reads one again.
   */
  async parkUnreadable(unreadable: readonly UnreadableUpdate[]): Promise<void> {
    for (const { update, reason } of unreadable) {
      const id = typeof update.event_id === 'string' ? update.event_id : createHash('sha256').update(JSON.stringify(update)).digest('hex');
      await this.outbox.enqueue<VkUnreadableJob>({
        queue: VK_UNREADABLE_QUEUE,
        lane: 'vk:unreadable',
        key: `vk-unreadable:${id}`,
        payload: { update },
        parkOnFirstRun: unreadableReason(update, reason),
      });
    }
  }

  /** A retried unreadable update: read with this version's code; readable now, its deliveries are stored (at the end of their lanes). */
  private async readAgain(job: OutboxJobRun<VkUnreadableJob>): Promise<OutboxOutcome> {
    const { routed, unreadable } = await this.reader.read([job.payload.update]);
    if (unreadable.length > 0) return outcome.park(unreadableReason(job.payload.update, unreadable[0].reason));
    await this.store(routed);
    return outcome.done();
  }

  /**
   * Stores a batch's deliveries. Lanes are stored side by side, each in event order; the job key is the delivery id,
   * so storing a batch again (VK repeats updates; a batch cut by an outage is polled again) stores nothing twice.
   */
  async store(routed: RoutedEvent[]): Promise<void> {
    const lanes = new Map<string, VkDeliveryJob[]>();
    for (const { event, destinations } of routed) {
      for (const destination of destinations) {
        const lane = vkLane(destination, event.peer.bpid);
        const job: VkDeliveryJob = { deliveryId: deliveryId(event.event_id, destination), destination, peerId: event.peer.bpid, event };
        lanes.set(lane, [...(lanes.get(lane) ?? []), job]);
      }
    }
    const stored = await Promise.allSettled(
      [...lanes].map(async ([lane, jobs]) => {
        for (const payload of jobs) await this.outbox.enqueue({ queue: VK_QUEUE, lane, key: `vk:${payload.deliveryId}`, payload });
      }),
    );
    const failed = stored.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async deliver(job: OutboxJobRun<VkDeliveryJob>): Promise<OutboxOutcome> {
    const { destination, event, deliveryId: id } = job.payload;
    const timer = deliverySeconds.startTimer({ type: this.sender.destination(destination)?.type ?? 'unknown' });
    try {
      await this.sender.send(destination, event, id);
    } catch (error) {
      const failure = error instanceof DeliveryFailure ? error : new DeliveryFailure((error as Error).message, false);
      deliveriesTotal.inc({ destination, outcome: failure.permanent ? 'parked' : 'failed' });
      return failure.permanent ? outcome.park(failure.message) : outcome.retry(failure.message);
    }
    timer();
    deliveriesTotal.inc({ destination, outcome: 'delivered' });
    return outcome.done();
  }
}

function unreadableReason(update: VkUpdate, reason: string): string {
  const v = typeof update.v === 'string' ? `, API ${update.v}` : '';
  return `VK update ${String(update.event_id)} (${String(update.type)}${v}) could not be read: ${reason}`;
}
