import { DiscordAPIError, RateLimitError } from '@discordjs/rest';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { backoffDelay } from '../common/backoff';
import { leaseOwnerId } from '../common/lease-owner';
import { telemetry } from '../telemetry/telemetry';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DiscordRest, describeDiscordError, isPermanentDiscordError } from '../discord-api/discord-rest';
import { createBody, editBody } from './notification-message';
import { DeliveryError } from './notification.schema';
import { NotificationRecord, NotificationStore } from './notification.store';

/** Long enough for @discordjs/rest's own retries; renewed while a call is in flight, so it only runs out on a crash. */
export const LEASE_MS = 30_000;
const LEASE_RENEW_MS = LEASE_MS / 3;
const MAX_CHANNELS_IN_FLIGHT = 8;
const MAX_CHANGES_IN_FLIGHT = 4;
const UNKNOWN_MESSAGE = 10008;
const CLAIM_PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** Far longer than any worker could act on a notification it read before: a week. */
const CLAIM_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

type Operation = 'create' | 'edit' | 'delete';
type Verdict = { retry: false; gone: boolean } | { retry: true; delayMs: number };

const deliveries = telemetry.counter('herald_notify_discord_calls_total', 'Discord calls made for notifications, by outcome', [
  'operation',
  'outcome',
]);

/**
 * Delivers stored notifications to Discord by polling MongoDB. Any number of replicas run one each; leases in
 * MongoDB (taken through a unique claim id, see NotificationStore.claim) decide who sends what, so a notification is
 * sent by one worker at a time, and a crashed worker's work is taken over once its lease expires. A channel's
 * notifications go out strictly one after another, in acceptance order: the next one waits until the previous one
 * is sent or has failed for good. Edits and deletes of sent messages are independent of that queue.
 */
@Injectable()
export class NotificationDeliveryWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(NotificationDeliveryWorker.name);
  private readonly owner = leaseOwnerId();
  private readonly channelsInFlight = new Set<string>();
  /** Channels that got new work while being drained, so the drain looks once more before it stops. */
  private readonly recheck = new Set<string>();
  private readonly work = new Set<Promise<void>>();
  private changesInFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private pollAgain = false;
  private stopping = false;
  private prunedAt = 0;
  private polls = 0;

  constructor(
    private readonly store: NotificationStore,
    private readonly discord: DiscordRest,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.logger.log({ worker: this.owner }, 'Notification delivery worker started');
    this.schedule(0);
  }

  /** A notification was accepted for this channel: send it now instead of at the next poll. */
  channelHasWork(channelId: string): void {
    if (this.stopping) return;
    if (this.channelsInFlight.has(channelId)) this.recheck.add(channelId);
    else if (this.channelsInFlight.size < MAX_CHANNELS_IN_FLIGHT) this.track(this.drainChannel(channelId));
  }

  /** An edit or delete was accepted: look for due changes now instead of at the next poll. */
  wake(): void {
    if (!this.stopping) this.schedule(0);
  }

  /**
   * Stops taking work and waits for Discord calls in flight, so their results are recorded and their leases given
   * back; a call still running after the shutdown timeout keeps its lease, which expires for another replica.
   */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    let timeout: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => (timeout = setTimeout(() => resolve('timeout'), this.config.shutdownTimeoutMs)));
    const outcome = await Promise.race([Promise.allSettled([...this.work]).then(() => 'done' as const), deadline]);
    clearTimeout(timeout);
    if (outcome === 'timeout') this.logger.warn({ inFlight: this.work.size }, 'Shut down with Discord calls still in flight; their leases will expire');
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
  }

  private async poll(): Promise<void> {
    this.polling = true;
    this.pollAgain = false;
    try {
      const channels = await this.store.channelsWithQueue();
      // Start at a different channel each time, so channels whose head is backing off cannot crowd out the rest.
      const offset = channels.length ? this.polls++ % channels.length : 0;
      for (const channelId of [...channels.slice(offset), ...channels.slice(0, offset)]) {
        if (this.stopping || this.channelsInFlight.size >= MAX_CHANNELS_IN_FLIGHT) break;
        if (!this.channelsInFlight.has(channelId)) this.track(this.drainChannel(channelId));
      }
      if (Date.now() - this.prunedAt > CLAIM_PRUNE_INTERVAL_MS) {
        this.prunedAt = Date.now();
        await this.store.pruneClaims(new Date(Date.now() - CLAIM_RETENTION_MS));
      }
      while (!this.stopping && this.changesInFlight < MAX_CHANGES_IN_FLIGHT) {
        const change = await this.store.claimDueChange(this.owner, LEASE_MS);
        if (!change) break;
        this.changesInFlight += 1;
        this.track(this.deliver(change).finally(() => (this.changesInFlight -= 1)));
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'Polling for notifications failed; trying again');
    } finally {
      this.polling = false;
      this.schedule(this.pollAgain ? 0 : this.config.outbox.pollIntervalMs);
    }
  }

  private track(task: Promise<void>): void {
    this.work.add(task);
    void task.finally(() => this.work.delete(task));
  }

  /** Sends a channel's queue head after head until it is empty, not yet due, or another replica holds the head. */
  private async drainChannel(channelId: string): Promise<void> {
    this.channelsInFlight.add(channelId);
    try {
      while (!this.stopping) {
        this.recheck.delete(channelId);
        const head = await this.store.headOf(channelId);
        if (!head) {
          if (this.recheck.has(channelId)) continue;
          return;
        }
        const claimed = await this.store.claim(head, this.owner, LEASE_MS);
        if (!claimed) return;
        await this.deliver(claimed);
      }
    } catch (error) {
      this.logger.warn({ err: error, channelId }, 'Delivering to channel failed; the next poll tries again');
    } finally {
      this.channelsInFlight.delete(channelId);
      this.recheck.delete(channelId);
    }
  }

  private async deliver(record: NotificationRecord): Promise<void> {
    const operation = operationOf(record);
    const notificationId = record._id.toHexString();
    if (this.stopping) return this.store.release(record, this.owner);
    if (operation === 'create' && record.deleteRequested) {
      // Deleted by a client while it waited; it never reaches Discord.
      await this.store.recordDeleted(record, this.owner, false);
      return;
    }

    const lease = this.keepLease(record);
    let messageId: string | undefined;
    try {
      messageId = await this.callDiscord(record, operation);
    } catch (error) {
      await lease.stop();
      await this.recordFailure(record, operation, error);
      return;
    }
    await lease.stop();
    deliveries.inc({ operation, outcome: 'ok' });
    // If this write fails, the lease runs out and the call is repeated; for a create, the enforced nonce makes
    // Discord hand back the message it already made instead of posting it twice.
    if (operation === 'delete') await this.store.recordDeleted(record, this.owner);
    else await this.store.recordShown(record, this.owner, record.revision, operation === 'create' ? { messageId, sentAt: new Date() } : {});
    this.logger.log({ notificationId, channelId: record.channelId, messageId: messageId ?? record.messageId, operation }, 'Notification delivered to Discord');
  }

  /**
   * Renews the lease while a Discord call runs (a 429 can be waited out for long). `stop` also waits for a renewal
   * in flight, so a renewal can never land after the outcome is recorded.
   */
  private keepLease(record: NotificationRecord): { stop(): Promise<void> } {
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = renewing.then(() => this.renew(record));
    }, LEASE_RENEW_MS);
    return {
      stop: async () => {
        clearInterval(timer);
        await renewing;
      },
    };
  }

  /** Makes the one Discord call the notification owes; returns the message id of a create. */
  private async callDiscord(record: NotificationRecord, operation: Operation): Promise<string | undefined> {
    switch (operation) {
      case 'create':
        return (await this.discord.createMessage(record.channelId, createBody(record.message, record._id.toHexString()))).id;
      case 'edit':
        await this.discord.editMessage(record.channelId, requireMessageId(record), editBody(record.message));
        return undefined;
      case 'delete':
        try {
          await this.discord.deleteMessage(record.channelId, requireMessageId(record));
        } catch (error) {
          // Already gone (deleted by a person in Discord): the client's wish is fulfilled.
          if (!(error instanceof DiscordAPIError && error.code === UNKNOWN_MESSAGE)) throw error;
        }
        return undefined;
    }
  }

  private async recordFailure(record: NotificationRecord, operation: Operation, error: unknown): Promise<void> {
    const notificationId = record._id.toHexString();
    const failure = toDeliveryError(error);
    const verdict = judge(error, record.failures + 1, this.config);
    if (!verdict.retry) {
      deliveries.inc({ operation, outcome: 'refused' });
      this.logger.warn({ notificationId, channelId: record.channelId, operation, error: failure.message }, 'Discord refused the notification');
      await this.store.recordRefused(record, this.owner, failure, verdict.gone);
      return;
    }
    deliveries.inc({ operation, outcome: 'retry' });
    this.logger.warn(
      { notificationId, channelId: record.channelId, operation, attempts: record.attempts, retryInMs: verdict.delayMs, error: failure.message },
      'Discord call failed; retrying later',
    );
    await this.store.recordRetry(record, this.owner, failure, new Date(Date.now() + verdict.delayMs));
  }

  private async renew(record: NotificationRecord): Promise<void> {
    try {
      if (!(await this.store.renewLease(record._id, this.owner, LEASE_MS))) {
        this.logger.warn({ notificationId: record._id.toHexString() }, 'Lost the lease of a notification in flight');
      }
    } catch (error) {
      this.logger.warn({ err: error, notificationId: record._id.toHexString() }, 'Could not renew a notification lease');
    }
  }
}

function operationOf(record: NotificationRecord): Operation {
  return record.state === 'queued' ? 'create' : record.pending === 'delete' ? 'delete' : 'edit';
}

function requireMessageId(record: NotificationRecord): string {
  if (!record.messageId) throw new Error(`Notification ${record._id.toHexString()} has no Discord message id`);
  return record.messageId;
}

/**
 * Permanent: Discord answered with a client error that no retry fixes (unknown channel, missing access, invalid
 * body). Everything else is retried without limit, so a notification is never dropped because @discordjs/rest ran
 * out of its own retries (it gives up on 5xx after `retries` immediate attempts). A 401 is retried too: the fix is a
 * new token and a restart, after which the queue should still go out.
 */
export function judge(error: unknown, failures: number, config: Pick<AppConfig, 'outbox'>): Verdict {
  if (error instanceof DiscordAPIError && error.status !== 401 && isPermanentDiscordError(error)) {
    return { retry: false, gone: error.code === UNKNOWN_MESSAGE };
  }
  if (error instanceof RateLimitError) return { retry: true, delayMs: Math.max(error.retryAfter, config.outbox.backoffBaseMs) };
  return { retry: true, delayMs: backoffDelay(failures, config.outbox.backoffBaseMs, config.outbox.backoffMaxMs) };
}

function toDeliveryError(error: unknown): DeliveryError {
  const status = typeof (error as { status?: unknown })?.status === 'number' ? (error as { status: number }).status : undefined;
  const code = error instanceof DiscordAPIError && typeof error.code === 'number' ? error.code : undefined;
  return { message: describeDiscordError(error), at: new Date(), ...(status !== undefined ? { status } : {}), ...(code !== undefined ? { code } : {}) };
}
