import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { telemetry } from '../telemetry/telemetry';
import { DeliveryFailure } from './vk-delivery-failure';
import { VkDeliverySender } from './vk-delivery.sender';
import { VkLease } from './vk-lease';
import { VkOutbox } from './vk-outbox';
import type { VkDelivery } from './vk.schemas';

/** How many undelivered deliveries of each destination one round looks at, and how many lanes it works at once. */
const ROUND_SIZE = 500;
const PARALLEL_LANES = 16;
const CLEANUP_EVERY_MS = 3600_000;

const deliveriesTotal = telemetry.counter('herald_vk_deliveries_total', 'VK event deliveries by destination and outcome', ['destination', 'outcome']);
const deliverySeconds = telemetry.histogram('herald_vk_delivery_seconds', 'Time to hand one VK event to a destination', ['type']);

/**
 * Works the outbox: for every (destination, peer) lane it sends the oldest undelivered event first and stops the
 * lane at a failure that will be retried, so one peer's events reach a destination in order. A parked delivery
 * (a permanent failure) no longer holds its lane. Runs only in the replica that holds the poller lease, so two
 * replicas never send the same delivery at once.
 */
@Injectable()
export class VkDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(VkDispatcher.name);
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private kicked = false;
  private lastCleanup = 0;

  constructor(
    private readonly outbox: VkOutbox,
    private readonly sender: VkDeliverySender,
    private readonly lease: VkLease,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  /** Finishes the deliveries in flight (each one recorded as delivered or failed) and stops. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.kick();
    await this.loop;
  }

  /** New deliveries were stored: start a round now instead of at the next interval. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let progressed = false;
      try {
        if (this.lease.held) {
          progressed = await this.round();
          await this.cleanupNowAndThen();
        }
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'VK delivery round failed; trying again shortly');
      }
      if (!progressed && !this.stopped) await this.idle(this.config.outbox.pollIntervalMs);
    }
  }

  /** One pass over the outbox; true when something was delivered (another round may find more right away). */
  private async round(): Promise<boolean> {
    this.kicked = false;
    const outstanding = await this.outbox.outstanding(this.sender.destinationNames(), ROUND_SIZE);
    const lanes = new Map<string, VkDelivery[]>();
    for (const delivery of outstanding) {
      const key = `${delivery.destination}\u0000${delivery.peerId}`;
      const lane = lanes.get(key);
      if (lane) lane.push(delivery);
      else lanes.set(key, [delivery]);
    }
    const now = Date.now();
    const due = [...lanes.values()].filter((lane) => new Date(lane[0].nextAttemptAt).getTime() <= now);
    let delivered = 0;
    const work = due.values();
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL_LANES, due.length) }, async () => {
        for (const lane of work) delivered += await this.workLane(lane, now);
      }),
    );
    return delivered > 0;
  }

  private async workLane(lane: VkDelivery[], now: number): Promise<number> {
    let delivered = 0;
    for (const delivery of lane) {
      if (this.stopped || !this.lease.held) break;
      if (new Date(delivery.nextAttemptAt).getTime() > now) break;
      const destination = this.sender.destination(delivery.destination);
      const timer = deliverySeconds.startTimer({ type: destination?.type ?? 'unknown' });
      try {
        await this.sender.send(delivery.destination, delivery.event, delivery._id);
        timer();
        await this.outbox.markDelivered(delivery);
        deliveriesTotal.inc({ destination: delivery.destination, outcome: 'delivered' });
        delivered += 1;
      } catch (error) {
        const failure = error instanceof DeliveryFailure ? error : new DeliveryFailure((error as Error).message, false);
        const nextAttemptAt = await this.outbox.markFailed(delivery, failure.message, failure.permanent);
        deliveriesTotal.inc({ destination: delivery.destination, outcome: failure.permanent ? 'parked' : 'failed' });
        this.logger.warn(
          {
            deliveryId: delivery._id,
            eventId: delivery.eventId,
            destination: delivery.destination,
            peerId: delivery.peerId,
            attempt: delivery.attempts + 1,
            retryAt: failure.permanent ? null : nextAttemptAt.toISOString(),
            err: failure.message,
          },
          failure.permanent ? 'VK delivery failed for good; parked until retried' : 'VK delivery failed; will retry',
        );
        // A delivery that will be retried holds back the rest of its lane; a parked one does not.
        if (!failure.permanent) break;
      }
    }
    return delivered;
  }

  private async cleanupNowAndThen(): Promise<void> {
    if (Date.now() - this.lastCleanup < CLEANUP_EVERY_MS) return;
    this.lastCleanup = Date.now();
    await this.outbox.removeOld();
  }

  private idle(ms: number): Promise<void> {
    if (this.kicked) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
