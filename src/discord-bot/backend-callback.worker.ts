import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { backoffDelay } from '../common/backoff';
import { leaseOwnerId } from '../common/lease-owner';
import { telemetry } from '../telemetry/telemetry';
import { APP_CONFIG, AppConfig } from '../config/config';
import { BackendClient } from '../backend/backend-client';
import { MessageImageStore } from './message-image.store';

const callbacks = telemetry.counter('herald_discord_backend_callbacks_total', 'Backend callback deliveries, by event and outcome', [
  'event',
  'outcome',
]);

const LEASE_MS = 30_000;
const BATCH = 32;
const PARALLEL_MESSAGES = 4;
/** Callbacks of one message sent back to back before giving the others a turn. */
const PER_MESSAGE_BURST = 8;

/**
 * Delivers the callbacks queued in message records to the backend: oldest first within a message, messages in
 * parallel, each failure backed off exponentially, until the backend answers 2xx. A backend that is down for
 * minutes delays callbacks and loses none.
 */
@Injectable()
export class BackendCallbackWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BackendCallbackWorker.name);
  private readonly owner = leaseOwnerId();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: MessageImageStore,
    private readonly backend: BackendClient,
  ) {}

  /** Without BACKEND_URL nothing is queued. */
  get enabled(): boolean {
    return this.backend.configured;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => this.kick(), this.config.outbox.pollIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // A delivery cut off here is sent again later; the backend dedupes by idempotency key.
    await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }

  /** Delivers what is due now; a call while a pass is running asks for one more pass. */
  kick(): void {
    if (!this.enabled) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.deliverDue()
      .catch((error: unknown) => this.logger.warn({ reason: describe(error) }, 'Could not look for owed backend callbacks'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async deliverDue(): Promise<void> {
    const due = await this.store.dueDeliveries(new Date(), BATCH);
    const queue = [...due];
    const lanes = Array.from({ length: PARALLEL_MESSAGES }, async () => {
      for (let messageId = queue.shift(); messageId; messageId = queue.shift()) await this.deliverFor(messageId);
    });
    await Promise.all(lanes);
  }

  private async deliverFor(messageId: string): Promise<void> {
    for (let sent = 0; sent < PER_MESSAGE_BURST; sent++) {
      const claimed = await this.store.claimDelivery(messageId, this.owner, LEASE_MS);
      const callback = claimed?.outbox[0];
      if (!claimed || !callback) return;
      try {
        await this.backend.deliver(callback);
        await this.store.delivered(claimed);
        callbacks.inc({ event: callback.event, outcome: 'delivered' });
        this.logger.log(
          { messageId: callback.messageId, event: callback.event, idempotencyKey: callback.idempotencyKey },
          'Backend acknowledged callback',
        );
      } catch (error) {
        callbacks.inc({ event: callback.event, outcome: 'failed' });
        const attempt = claimed.deliveryAttempts + 1;
        const delayMs = backoffDelay(attempt, this.config.outbox.backoffBaseMs, this.config.outbox.backoffMaxMs);
        await this.store.deliveryFailed(claimed, describe(error), new Date(Date.now() + delayMs));
        this.logger.warn(
          { messageId: callback.messageId, event: callback.event, attempt, retryInMs: delayMs, reason: describe(error) },
          'Backend callback failed; will retry',
        );
        return;
      }
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error) return `${error.message}: ${error.cause.message}`;
  return error instanceof Error ? error.message : String(error);
}
