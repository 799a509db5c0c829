import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Types } from 'mongoose';
import { backoffDelay } from '../common/backoff';
import { leaseOwnerId } from '../common/lease-owner';
import { telemetry } from '../telemetry/telemetry';
import { APP_CONFIG, AppConfig } from '../config/config';
import { settleWithin } from '../common/timeouts';
import { HeldClaim, NewOutboxJob, OutboxJobFilter, OutboxJobRecord, OutboxStore, queuedHead } from './outbox.store';
import { errorMessage } from '../common/errors';
import { type OutboxPage, type OutboxPageRequest, toPage } from './outbox-page';

/** What a handler decided about one run of a job. Throwing counts as `retry` with the shared backoff. */
export type OutboxOutcome =
  { kind: 'done'; result?: unknown } | { kind: 'retry'; reason: string; delayMs?: number } | { kind: 'park'; reason: string };

export const outcome = {
  done: (result?: unknown): OutboxOutcome => ({ kind: 'done', result }),
  retry: (reason: string, delayMs?: number): OutboxOutcome => ({ kind: 'retry', reason, delayMs }),
  park: (reason: string): OutboxOutcome => ({ kind: 'park', reason }),
};

/** What a handler sees of its job. `attempts` counts earlier runs whose outcome was recorded. */
export interface OutboxJobRun<P> {
  id: string;
  queue: string;
  lane: string;
  seq: number;
  payload: P;
  attempts: number;
}

export type OutboxHandler<P> = (job: OutboxJobRun<P>) => Promise<OutboxOutcome>;

export interface OutboxQueueOptions {
  /**
   * The queue's lanes seldom hold two jobs at once (a lane per message): a worker that finished a job takes the lane
   * out of the due set before it looks for the next job, which saves a read where the lane is empty and costs a write
   * where it is not (it marks the lane again).
   */
  shortLanes?: boolean;
}

/** Long enough for a slow Discord call; renewed while a handler runs, so it only runs out when a worker dies. */
export const OUTBOX_LEASE_MS = 30_000;
const LEASE_RENEW_MS = OUTBOX_LEASE_MS / 3;
const STATS_INTERVAL_MS = 15_000;
/** How often a replica deletes jobs finished more than OUTBOX_RETENTION_HOURS ago, and how many at most per round. */
const SWEEP_INTERVAL_MS = 10 * 60_000;
const SWEEP_BATCH = 500;
const SWEEP_MAX_BATCHES = 20;
/** How often a waiter looks at a job another replica may be running (one in this process wakes it at once). */
const FINISHED_POLL_MS = 1_000;

const attemptsTotal = telemetry.counter('herald_outbox_attempts_total', 'Outbox handler runs, by queue and outcome', ['queue', 'outcome']);
const depthGauge = telemetry.gauge('herald_outbox_depth', 'Queued outbox jobs (due or backing off), by queue', ['queue']);
const oldestGauge = telemetry.gauge('herald_outbox_oldest_age_seconds', 'Age of the oldest queued outbox job, by queue', ['queue']);
const sweptTotal = telemetry.counter('herald_outbox_swept_total', 'Finished outbox jobs deleted after OUTBOX_RETENTION_HOURS, by queue', ['queue']);
const parkedGauge = telemetry.gauge('herald_outbox_parked', 'Parked outbox jobs waiting for POST /outbox/{id}/retry, by queue', ['queue']);

/**
 * The one durable job runner. Features register a handler per queue and enqueue jobs into lanes; every replica runs
 * this worker, and the store's claims decide who runs what. A lane runs one job at a time in seq order. Enqueueing in
 * this process starts the lane at once; other replicas' work is found by a poll every OUTBOX_POLL_INTERVAL_MS.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(Outbox.name);
  private readonly owner = leaseOwnerId();
  private readonly handlers = new Map<string, OutboxHandler<never>>();
  private readonly shortLaneQueues = new Set<string>();
  /** The lanes this process is draining, each with the queue it was woken for (see mayStart and nextWaiting). */
  private readonly lanesInFlight = new Map<string, string>();
  /** Lanes that got new work while being drained, so the drain looks once more before it stops. */
  private readonly recheck = new Set<string>();
  /**
   * Lanes waiting for a slot when all were busy (or their queue held all it may), by queue. A freed slot goes to the
   * waiting queue that holds the fewest slots, in turn among equals, so neither a burst in one queue (a thousand
   * messages' images) nor a queue whose jobs hang (callbacks to a backend that does not answer, each for its timeout)
   * holds back another. A lane's first job, stored by this process, waits with it (see wakeLane).
   */
  private readonly waiting = new Map<string, Map<string, OutboxJobRecord | undefined>>();
  private readonly work = new Set<Promise<void>>();
  private readonly finished = new EventEmitter();
  private readonly laneTimers = new Map<string, NodeJS.Timeout>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopping = false;
  private statsAt = 0;
  private refreshing = false;
  private sweptAt = Date.now();
  private sweeping = false;

  constructor(
    private readonly store: OutboxStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.finished.setMaxListeners(0);
  }

  /** Called by a feature (from its onModuleInit) for the queue it owns. */
  register<P>(queue: string, handler: OutboxHandler<P>, options: OutboxQueueOptions = {}): void {
    if (this.handlers.has(queue)) throw new Error(`Outbox queue ${queue} has a handler already`);
    this.handlers.set(queue, handler);
    if (options.shortLanes) this.shortLaneQueues.add(queue);
  }

  /** Stores the job durably and starts its lane in this process. */
  async enqueue<P>(job: NewOutboxJob & { payload: P }): Promise<OutboxJobRecord> {
    let woken = false;
    // Woken as soon as the job is stored (the rest of the enqueue runs beside it). The first job of a lane is its head,
    // and as stored here it is what the database holds until someone claims it: the drain starts with it, reading
    // neither the head mark nor the job.
    const wake = (stored: OutboxJobRecord) => {
      woken = true;
      this.wakeLane(job.lane, job.queue, stored.seq === 1 ? stored : undefined);
    };
    const stored = await this.store.enqueue(job, new Date(), wake);
    // A job stored before (the same key): its lane may still owe it.
    if (!woken) this.wakeLane(job.lane, job.queue);
    return stored;
  }

  /**
   * Starts a lane now instead of at the next poll. `first`: the lane's first job (place 1), just stored by this
   * process, when the caller has it; it waits with the lane for a slot (if another replica ran the job meanwhile, the
   * insert of claim 1 finds that out, as it would after a read).
   */
  private wakeLane(lane: string, queue: string, first?: OutboxJobRecord): void {
    if (!this.started || this.stopping) return;
    if (this.lanesInFlight.has(lane)) this.recheck.add(lane);
    else if (this.mayStart(queue)) this.track(this.drainLane(lane, queue, first));
    else {
      const lanes = this.waiting.get(queue) ?? new Map<string, OutboxJobRecord | undefined>();
      lanes.set(lane, first ?? lanes.get(lane));
      this.waiting.set(queue, lanes);
    }
  }

  /**
   * Waits until the job is finished (done or parked) or `timeoutMs` passes; answers the job as it then stands.
   * Finished in this process it answers at once; run by another replica it is seen on the next look.
   */
  async whenFinished(jobId: Types.ObjectId, timeoutMs: number): Promise<OutboxJobRecord | null> {
    const id = jobId.toHexString();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.store.find(jobId);
      if (!job || job.state !== 'queued' || Date.now() >= deadline) return job;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timeout);
          this.finished.off(id, done);
          resolve();
        };
        const timeout = setTimeout(done, Math.min(FINISHED_POLL_MS, Math.max(0, deadline - Date.now())));
        this.finished.on(id, done);
      });
    }
  }

  /** Parked jobs of every queue or of one, by when they were parked (GET /outbox). */
  async parked(queue: string | undefined, page: OutboxPageRequest): Promise<OutboxPage<OutboxJobRecord>> {
    const { marks, jobs } = await this.store.parked(queue, { ...page, limit: page.limit + 1 });
    const { next } = toPage(marks, page.limit, (mark) => ({ at: mark.at, id: mark._id }));
    const shown = new Set(marks.slice(0, page.limit).map((mark) => mark._id.toHexString()));
    return { items: jobs.filter((job) => shown.has(job._id.toHexString())), next };
  }

  /** One lane's parked jobs, in lane order (see OutboxStore.parkedInLane). */
  parkedInLane(lane: string): Promise<OutboxJobRecord[]> {
    return this.store.parkedInLane(lane);
  }

  find(id: string): Promise<OutboxJobRecord | null> {
    return this.store.find(id);
  }

  /** A feature's listing of its own queue, by when each job was stored (see OutboxStore.list). */
  async list(queue: string, filter: OutboxJobFilter, page: OutboxPageRequest): Promise<OutboxPage<OutboxJobRecord>> {
    const read = await this.store.list(queue, filter, { ...page, limit: page.limit + 1 });
    return toPage(read, page.limit, (job) => ({ at: job.createdAt, id: job._id }));
  }

  count(queue: string, filter: OutboxJobFilter): Promise<number> {
    return this.store.count(queue, filter);
  }

  async retryParked(job: OutboxJobRecord): Promise<OutboxJobRecord> {
    const again = await this.store.retryParked(job);
    this.wakeLane(again.lane, again.queue);
    return again;
  }

  onApplicationBootstrap(): void {
    this.started = true;
    this.schedule(0);
  }

  /**
   * Stops taking jobs and waits for handlers in flight (up to SHUTDOWN_TIMEOUT_MS) so their outcomes are recorded;
   * a handler still running then keeps its claim, which expires for another replica.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    for (const timer of this.laneTimers.values()) clearTimeout(timer);
    const drained = await settleWithin(Promise.allSettled([...this.work]), this.config.shutdownTimeoutMs);
    if (!drained) this.logger.warn({ inFlight: this.work.size }, 'Shut down with outbox jobs still running; their claims will expire');
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    try {
      const lanes = await this.store.lanesWithDueWork([...this.handlers.keys()]);
      for (const { lane, queue } of lanes) this.wakeLane(lane, queue);
      if (!this.refreshing && Date.now() - this.statsAt > STATS_INTERVAL_MS) {
        // Beside the poll too: with many lanes holding work it takes a few hundred reads, and the poll must not wait.
        this.statsAt = Date.now();
        this.refreshing = true;
        this.track(
          this.refreshGauges()
            .catch((error: unknown) => this.logger.warn({ err: error }, 'Refreshing the outbox gauges failed; the next poll tries again'))
            .finally(() => (this.refreshing = false)),
        );
      }
      if (!this.sweeping && Date.now() - this.sweptAt > SWEEP_INTERVAL_MS) {
        // Beside the poll, not in it: a first sweep of a large history on FerretDB may take minutes.
        this.sweptAt = Date.now();
        this.sweeping = true;
        this.track(
          this.sweep()
            .then(() => undefined)
            .catch((error: unknown) => this.logger.warn({ err: error }, 'Deleting old finished outbox jobs failed; the next sweep tries again'))
            .finally(() => (this.sweeping = false)),
        );
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'Looking for outbox work failed; trying again');
    } finally {
      this.schedule(this.config.outbox.pollIntervalMs);
    }
  }

  /**
   * Deletes this process's queues' jobs that finished more than OUTBOX_RETENTION_HOURS ago (with their claims and older
   * versions' key documents), so the collections hold what is queued plus a window of history, not every job ever run;
   * a short lane whose jobs all finished loses its marks too, at a sweep an hour after the one that found them all old
   * (OutboxStore.sweepFinished). Replicas may sweep at once: each deletion is harmless to repeat. Answers how many jobs
   * were deleted.
   */
  async sweep(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.outbox.retentionMs);
    let total = 0;
    for (const queue of this.handlers.keys()) {
      for (let batch = 0; batch < SWEEP_MAX_BATCHES && !this.stopping; batch += 1) {
        const { deleted, examined } = await this.store.sweepFinished([queue], cutoff, SWEEP_BATCH, now);
        sweptTotal.inc({ queue }, deleted);
        total += deleted;
        if (examined < SWEEP_BATCH) break;
      }
    }
    if (total > 0) this.logger.log({ deleted: total, finishedBefore: cutoff.toISOString() }, 'Old finished outbox jobs deleted');
    return total;
  }

  private async refreshGauges(): Promise<void> {
    for (const queue of this.handlers.keys()) {
      const stats = await this.store.stats(queue);
      depthGauge.set({ queue }, stats.depth);
      parkedGauge.set({ queue }, stats.parked);
      oldestGauge.set({ queue }, stats.oldestAgeSeconds);
    }
  }

  /** Work that shutdown waits for: lane drains, the gauges' refresh, the sweep. */
  private track(task: Promise<void>): void {
    this.work.add(task);
    void task.finally(() => this.work.delete(task));
  }

  /** How many of the slots (lanes in flight, at most OUTBOX_CONCURRENCY) this queue holds. */
  private held(queue: string): number {
    let count = 0;
    for (const holder of this.lanesInFlight.values()) if (holder === queue) count += 1;
    return count;
  }

  /**
   * Whether a lane of this queue may take a slot now: one is free, and, where this process runs other queues too, the
   * queue holds fewer than all but one. So one slot is always left to the other queues: a queue whose jobs all hang
   * (each until its call times out) cannot make a notification or a build wait for one of them to end.
   */
  private mayStart(queue: string): boolean {
    const concurrency = this.config.outbox.concurrency;
    if (this.lanesInFlight.size >= concurrency) return false;
    return this.handlers.size < 2 || this.held(queue) < Math.max(1, concurrency - 1);
  }

  /**
   * The longest-waiting lane of the waiting queue that holds the fewest slots (the first in turn among equals) and may
   * take one; that queue then goes to the back of the turn. Taking turns alone would hand a slow queue every other
   * freed slot until it held all it may, since the fast queue's slots free far more often.
   */
  private nextWaiting(): { lane: string; queue: string; first?: OutboxJobRecord } | undefined {
    let entry: [string, Map<string, OutboxJobRecord | undefined>] | undefined;
    for (const candidate of this.waiting) {
      if (!this.mayStart(candidate[0])) continue;
      if (!entry || this.held(candidate[0]) < this.held(entry[0])) entry = candidate;
    }
    if (!entry) return undefined;
    const [queue, lanes] = entry;
    const [[lane, first]] = lanes;
    lanes.delete(lane);
    this.waiting.delete(queue);
    if (lanes.size > 0) this.waiting.set(queue, lanes);
    return { lane, queue, first };
  }

  /** Runs a lane's head job after head job until the lane is empty, waiting on a backoff, or held by another worker. */
  private async drainLane(lane: string, queue: string, first?: OutboxJobRecord): Promise<void> {
    this.lanesInFlight.set(lane, queue);
    try {
      let from: number | undefined;
      let known = first;
      /** The queue of the job this drain just finished, whose lane it then expects empty if that queue's lanes are short. */
      let finishedOf: string | undefined;
      while (!this.stopping) {
        // Work enqueued in this process while the last job ran: the lane is not empty, whatever its queue's habit.
        const arrived = this.recheck.delete(lane);
        const likelyEmpty = finishedOf !== undefined && this.shortLaneQueues.has(finishedOf) && !arrived;
        const head = known ? queuedHead(known, new Date()) : await this.store.headOf(lane, new Date(), from, likelyEmpty);
        known = undefined;
        if (head.kind === 'empty') {
          if (this.recheck.has(lane)) continue;
          return;
        }
        if (head.kind === 'waiting') {
          this.wakeLaneAt(lane, head.job.queue, head.job.nextAttemptAt);
          return;
        }
        if (!this.handlers.has(head.job.queue)) return;
        const claimedAt = performance.now();
        const claim = await this.store.claim(head.job, this.owner, OUTBOX_LEASE_MS);
        if (!claim) return;
        // The first claim a job ever got: no worker before us held it, so nobody wrote it since headOf read it.
        from = await this.runClaimed(claim, lane, claimedAt, claim.number === 1 ? head.job : undefined);
        finishedOf = from === undefined ? undefined : head.job.queue;
      }
    } catch (error) {
      this.logger.warn({ err: error, lane }, 'Working on an outbox lane failed; the next poll tries again');
    } finally {
      this.lanesInFlight.delete(lane);
      this.recheck.delete(lane);
      // The slot this drain held goes to a waiting lane, if one may take it (the gauges and the sweep hold no slot).
      const next = this.nextWaiting();
      if (next) this.wakeLane(next.lane, next.queue, next.first);
    }
  }

  private wakeLaneAt(lane: string, queue: string, at: Date): void {
    clearTimeout(this.laneTimers.get(lane));
    const timer = setTimeout(
      () => {
        this.laneTimers.delete(lane);
        this.wakeLane(lane, queue);
      },
      Math.max(0, at.getTime() - Date.now()),
    );
    timer.unref();
    this.laneTimers.set(lane, timer);
  }

  /** Runs the claimed job and records its outcome; answers where the lane's head is now, when this worker moved it. */
  private async runClaimed(claim: HeldClaim, lane: string, claimedAt: number, unclaimedBefore?: OutboxJobRecord): Promise<number | undefined> {
    // Read again under the claim: a worker before us may have finished it after we read the head.
    const job = unclaimedBefore ?? (await this.store.find(claim.jobId));
    if (!job || job.state !== 'queued' || job.nextAttemptAt > new Date()) {
      await this.store.release(claim);
      if (job && job.state !== 'queued') await this.store.advanceHead(lane, job.seq);
      return undefined;
    }
    const handler = this.handlers.get(job.queue) as OutboxHandler<unknown>;
    const jobId = job._id.toHexString();
    const lease = this.keepLease(claim, jobId, claimedAt);
    // A job whose one attempt its caller made, with a final answer, is parked without running again.
    const parkNow = job.attempts === 0 ? job.parkOnFirstRun : undefined;
    let decided: OutboxOutcome;
    try {
      decided =
        parkNow !== undefined
          ? outcome.park(parkNow)
          : await handler({ id: jobId, queue: job.queue, lane, seq: job.seq, payload: job.payload, attempts: job.attempts });
    } catch (error) {
      decided = outcome.retry(errorMessage(error));
    } finally {
      await lease.stop();
    }
    // Another worker may claim only once our lease has run out. While less than half of it has passed since the claim
    // or its last renewal began (this process's monotonic clock; replicas' clocks must agree within OUTBOX_LEASE_MS / 2),
    // the claim is ours without asking; later (a stalled process, failed renewals) the store is asked.
    if (performance.now() - lease.heldSince() >= OUTBOX_LEASE_MS / 2 && !(await this.store.stillHolds(claim))) {
      this.logger.warn({ jobId, lane }, 'Lost the claim on an outbox job while it ran; its new holder records the outcome');
      return undefined;
    }
    attemptsTotal.inc({ queue: job.queue, outcome: decided.kind });
    switch (decided.kind) {
      case 'done':
        await this.store.recordDone(claim, decided.result);
        break;
      case 'park':
        this.logger.warn({ jobId, lane, queue: job.queue, reason: decided.reason }, 'Outbox job parked');
        await this.store.recordParked(claim, decided.reason);
        break;
      case 'retry': {
        const delayMs = decided.delayMs ?? backoffDelay(job.attempts + 1, this.config.outbox.backoffBaseMs, this.config.outbox.backoffMaxMs);
        this.logger.warn(
          { jobId, lane, queue: job.queue, attempts: job.attempts + 1, retryInMs: delayMs, reason: decided.reason },
          'Outbox job failed; retrying later',
        );
        await this.store.recordRetry(claim, decided.reason, new Date(Date.now() + delayMs));
        break;
      }
    }
    if (decided.kind === 'retry') {
      await this.store.release(claim);
      return undefined;
    }
    // A finished job is never claimed again (only a lane's head is, and the head moves past it): no release needed.
    await this.store.advanceHead(lane, job.seq);
    this.finished.emit(jobId);
    return job.seq + 1;
  }

  /**
   * Renews the claim while the handler runs; `stop` waits for a renewal in flight so none lands after the outcome.
   * `heldSince` is when the claim's current lease began at the latest (its claim or last successful renewal started).
   */
  private keepLease(claim: HeldClaim, jobId: string, claimedAt: number): { stop(): Promise<void>; heldSince(): number } {
    let renewing: Promise<void> = Promise.resolve();
    let since = claimedAt;
    const timer = setInterval(() => {
      renewing = renewing.then(async () => {
        const started = performance.now();
        try {
          await this.store.renew(claim, OUTBOX_LEASE_MS);
          since = started;
        } catch (error) {
          this.logger.warn({ err: error, jobId }, 'Could not renew an outbox claim');
        }
      });
    }, LEASE_RENEW_MS);
    return {
      stop: async () => {
        clearInterval(timer);
        await renewing;
      },
      heldSince: () => since,
    };
  }
}
