import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { backoffDelay } from '../common/backoff';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { telemetry } from '../telemetry/telemetry';
import { Outbox, outcome, type OutboxJobRun, type OutboxOutcome } from '../outbox/outbox';
import type { BackendCallback } from './backend-callback';
import { BackendClient } from './backend-client';
import type { DashboardCallback } from './dashboard-callback';
import { BackendRefusedError, type BackendAnswer } from './backend-request';

export const BACKEND_QUEUE = 'backend';

/**
 * A delivery unanswered after this long marks the backend as slow: deliverNow leaves callbacks to the outbox while one
 * in flight is that old or the last one answered took that long. A well backend answers in milliseconds.
 */
const SLOW_DELIVERY_MS = 1_000;

/** Statuses a later attempt can fix: the backend busy, limiting, or its token being rotated. Any other 4xx parks. */
const RETRYABLE_STATUSES = new Set([401, 403, 408, 425, 429]);

const callbacks = telemetry.counter('herald_discord_backend_callbacks_total', 'Backend callback deliveries, by event and outcome', [
  'event',
  'outcome',
]);

/** Everything Herald tells the backend: about a Discord message's image, or a rendered metrics dashboard. */
export type OwedCallback = BackendCallback | DashboardCallback;

/**
 * How `deliverNow` went: acknowledged; not tried (see there); failed in a way a later attempt may fix; or refused
 * for good (a 4xx no retry changes), with the reason the job that carries it is parked with.
 */
export type DeliveryNow = { kind: 'delivered' } | { kind: 'skipped' } | { kind: 'failed' } | { kind: 'refused'; reason: string };

/**
 * Callbacks to the team's backend. A message's callback is first tried from the job that owes it (`deliverNow`); what
 * that does not deliver, and every dashboard's, becomes an outbox job: one lane per message (or dashboard), so its
 * callbacks arrive in the order they were owed, and one job per idempotency key, so a callback owed twice (a job that
 * ran again) is stored once. A backend that is down delays callbacks (retried with the shared backoff) and loses none.
 */
@Injectable()
export class BackendCallbacks implements OnModuleInit {
  private readonly logger = new Logger(BackendCallbacks.name);
  /** Deliveries that failed in a row in this process; any success resets it (readiness shows it). */
  private failedInARow = 0;
  /** Whether the last delivery answered took more than SLOW_DELIVERY_MS (see deliverNow). */
  private lastDeliverySlow = false;
  /** When each delivery in flight in this process began (`performance.now()`), by delivery. */
  private readonly inFlight = new Map<symbol, number>();

  constructor(
    private readonly outbox: Outbox,
    private readonly backend: BackendClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Without BACKEND_URL nothing is owed. */
  get enabled(): boolean {
    return this.backend.configured;
  }

  get consecutiveFailures(): number {
    return this.failedInARow;
  }

  onModuleInit(): void {
    // A lane per message or dashboard: it holds a callback only until the backend acknowledges it.
    if (this.enabled) this.outbox.register<OwedCallback>(BACKEND_QUEUE, (job) => this.run(job), { shortLanes: true });
  }

  /**
   * A stored callback's run: sent, unless an earlier callback of the same message is parked. The outbox moves a lane
   * past a parked job, so without this a message's PUT would reach a backend that refused its POST; it is parked
   * behind it instead, and sent once that one was retried first (a retry queues at the end of the lane).
   */
  private async run(job: OutboxJobRun<OwedCallback>): Promise<OutboxOutcome> {
    const callback = job.payload;
    // A lane's first job has nothing before it: a new message's POST (the bot's every message) reads nothing more.
    if (!isDashboard(callback) && job.seq > 1) {
      const parked = await this.outbox.parkedInLane(job.lane);
      const earlier = parked.find((other) => orderOf(other.payload as BackendCallback) < orderOf(callback));
      if (earlier) {
        const id = earlier._id.toHexString();
        const event = (earlier.payload as BackendCallback).event;
        return outcome.park(
          `waits behind the message's parked ${event} callback ${id}: retry that one first (POST /outbox/${id}/retry), then this one`,
        );
      }
    }
    return this.attempt(callback);
  }

  /**
   * Stores the callback durably; owing it again under the same idempotency key stores nothing new. `tried`: how the
   * caller's own `deliverNow` went. After a failure the first run waits the first backoff step; after a refusal the job
   * is parked with its reason when it first runs, without calling the backend again (POST /outbox/{id}/retry sends it).
   */
  async owe(callback: OwedCallback, tried?: DeliveryNow): Promise<void> {
    if (!this.enabled) return;
    await this.outbox.enqueue<OwedCallback>({
      queue: BACKEND_QUEUE,
      lane: isDashboard(callback) ? `backend:dashboard:${callback.dashboard}` : `backend:discord:${callback.messageId}`,
      key: `backend:${callback.idempotencyKey}`,
      payload: callback,
      notBefore: tried?.kind === 'failed' ? this.retryAfterFailedDelivery() : undefined,
      parkOnFirstRun: tried?.kind === 'refused' ? tried.reason : undefined,
    });
  }

  /**
   * Delivers a message's callback now, in the caller's job, instead of as a job of its own: a third of the database
   * commands a message costs. Skipped while the last delivery in this process failed or took more than
   * SLOW_DELIVERY_MS, or one in flight has waited longer than that, so a backend that is down, hangs or is slow does
   * not hold every image job for its answer or its timeout: the callbacks wait in the outbox's slots instead, which a
   * queue never holds all of, and the first of them answered in time opens the way again.
   * (Calls in flight alone would not do: image jobs of a burst call together, and each batch is young when the next
   * starts.)
   * On anything but `delivered` the caller owes it (`owe`), behind any callback of the message still queued: only the
   * caller knows whether one is (MessageImageService keeps that on the message's record; see docs/adr/0006).
   */
  async deliverNow(callback: BackendCallback): Promise<DeliveryNow> {
    if (!this.enabled || this.failedInARow > 0 || this.lastDeliverySlow || this.slowDeliveryInFlight()) return { kind: 'skipped' };
    const answer = await this.attempt(callback);
    if (answer.kind === 'done') return { kind: 'delivered' };
    return answer.kind === 'park' ? { kind: 'refused', reason: answer.reason } : { kind: 'failed' };
  }

  private slowDeliveryInFlight(): boolean {
    const now = performance.now();
    for (const since of this.inFlight.values()) if (now - since > SLOW_DELIVERY_MS) return true;
    return false;
  }

  /** The first backoff step, for a callback owed after `deliverNow` failed. */
  private retryAfterFailedDelivery(): Date {
    return new Date(Date.now() + backoffDelay(1, this.config.outbox.backoffBaseMs, this.config.outbox.backoffMaxMs));
  }

  private async attempt(callback: OwedCallback): Promise<OutboxOutcome> {
    const about = isDashboard(callback) ? { dashboard: callback.dashboard } : { messageId: callback.messageId };
    const ids = { ...about, event: callback.event, idempotencyKey: callback.idempotencyKey };
    let took: number;
    let answer: BackendAnswer;
    try {
      ({ took, answer } = await this.send(callback));
    } catch (error) {
      this.failedInARow += 1;
      callbacks.inc({ event: callback.event, outcome: 'failed' });
      const reason = describe(error);
      if (error instanceof BackendRefusedError && error.status < 500 && !RETRYABLE_STATUSES.has(error.status)) {
        return outcome.park(`the backend refused the ${callback.event} callback: ${reason}`);
      }
      return outcome.retry(reason);
    }
    // An answer that there is nothing to delete is the backend at work, not failing: it counts as up.
    this.failedInARow = 0;
    this.lastDeliverySlow = took > SLOW_DELIVERY_MS;
    if (answer === 'nothing-to-delete') {
      callbacks.inc({ event: callback.event, outcome: 'nothing_to_delete' });
      this.logger.log(ids, 'Backend holds no image for the deleted message (404); nothing to delete');
      return outcome.done();
    }
    callbacks.inc({ event: callback.event, outcome: 'delivered' });
    this.logger.log(ids, 'Backend acknowledged callback');
    return outcome.done();
  }

  /** One call to the backend, counted in flight while it runs (see slowDeliveryInFlight); answers how long it took. */
  private async send(callback: OwedCallback): Promise<{ took: number; answer: BackendAnswer }> {
    const delivery = Symbol();
    const started = performance.now();
    this.inFlight.set(delivery, started);
    try {
      let answer: BackendAnswer = 'acknowledged';
      if (isDashboard(callback)) await this.backend.deliverDashboard(callback);
      else answer = await this.backend.deliver(callback);
      return { took: performance.now() - started, answer };
    } finally {
      this.inFlight.delete(delivery);
    }
  }
}

/** A message's callbacks in the order they were owed: by the revision their key ends in (`created:1`, `updated:2`), the delete last. */
function orderOf(callback: BackendCallback): number {
  if (callback.event === 'deleted') return Number.MAX_SAFE_INTEGER;
  const revision = Number(callback.idempotencyKey.split(':').at(-1));
  return Number.isFinite(revision) ? revision : 0;
}

function isDashboard(callback: OwedCallback): callback is DashboardCallback {
  return callback.event === 'dashboard.rendered';
}

function describe(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error) return `${error.message}: ${error.cause.message}`;
  return error instanceof Error ? error.message : String(error);
}
