import { DiscordAPIError, RateLimitError } from '@discordjs/rest';
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { createHash } from 'node:crypto';
import { telemetry } from '../telemetry/telemetry';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DiscordRest, describeDiscordError, isPermanentDiscordError } from '../discord-api/discord-rest';
import { Outbox, OutboxJobRun, OutboxOutcome, outcome } from '../outbox/outbox';
import { BuildKey, BuildMessageStore } from './build-message.store';
import { BuildSnapshot, renderBuildMessage } from './build-message.view';
import { buildSnapshotOrder } from './build-status';
import { renderRepoMessage, renderUserMessage } from './drone-event.view';
import { readDroneDelivery } from './drone-payload';
import type { DroneStatus } from './drone-webhook.types';

/** What happened to one delivery; the controller turns it into a status code. */
export type DroneWebhookOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'malformed'; reason: string }
  | { outcome: 'shown'; buildId: number; status: DroneStatus; shownStatus: DroneStatus | null; messageId: string | null }
  | { outcome: 'posted'; event: string; messageId: string | null }
  | { outcome: 'queued'; buildId?: number; status?: DroneStatus; event?: string; jobId: string }
  | { outcome: 'failed'; buildId?: number; event?: string; jobId: string; reason: string };

export const DRONE_QUEUE = 'drone';
/** Unknown Message: the message was deleted in Discord. */
const UNKNOWN_MESSAGE = 10008;
/**
 * How long a delivery waits for its job before answering 202 (Drone does not retry a webhook, so the answer is only
 * informational; the job goes on in the background either way).
 */
const ANSWER_WAIT_MS = 5_000;

/** A build snapshot to show: the message as rendered from it, and its order among the build's snapshots. */
interface BuildMessageJob {
  kind: 'build';
  key: BuildKey;
  channelId: string;
  order: string;
  status: DroneStatus;
  buildUpdatedAt: string;
  message: RESTPostAPIChannelMessageJSONBody;
}

/** A one-off message (user created/deleted, repo enabled/disabled). */
interface EventMessageJob {
  kind: 'event';
  event: string;
  channelId: string;
  message: RESTPostAPIChannelMessageJSONBody;
}

type DroneJob = BuildMessageJob | EventMessageJob;

const deliveries = telemetry.counter('herald_drone_webhooks_total', 'Drone webhook deliveries by outcome', ['outcome']);
const discordFailures = telemetry.counter(
  'herald_drone_message_failures_total',
  'Drone messages Discord did not take (transient ones are retried in the background, permanent ones parked)',
  ['kind'],
);

@Injectable()
export class DroneService implements OnModuleInit {
  private readonly logger = new Logger(DroneService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: BuildMessageStore,
    private readonly discord: DiscordRest,
    private readonly outbox: Outbox,
  ) {}

  onModuleInit(): void {
    // Mostly a lane per build, whose next delivery comes after the previous one was answered (the webhook waits for its
    // job): the lane is usually empty when a job finishes.
    this.outbox.register<DroneJob>(DRONE_QUEUE, (job) => this.runJob(job), { shortLanes: true });
  }

  /** Counts a delivery rejected before it reached the service (signature, JSON). */
  countRejected(outcome: 'unauthorized' | 'malformed'): void {
    deliveries.inc({ outcome });
  }

  /**
   * A verified delivery: stored as an outbox job in the build's lane (or the channel's, for one-off events).
   * `deliveryId` names the delivery (its signed Date and body), so the same one-off event delivered again is one job.
   */
  async receive(body: unknown, deliveryId: string): Promise<DroneWebhookOutcome> {
    const delivery = readDroneDelivery(body);
    switch (delivery.kind) {
      case 'ignored':
      case 'malformed':
        return this.count({ outcome: delivery.kind, reason: delivery.reason }, delivery.kind === 'ignored' ? 'Drone webhook ignored' : undefined);
      case 'user':
        if (!this.config.drone.userMessages)
          return this.count({ outcome: 'ignored', reason: 'user messages are switched off (DRONE_USER_MESSAGES=false)' });
        return this.postEvent(
          `user:${delivery.action}`,
          this.config.drone.channelId,
          renderUserMessage(delivery.action, delivery.user, delivery.system),
          deliveryId,
        );
      case 'repo':
        if (!this.config.drone.repoMessages)
          return this.count({ outcome: 'ignored', reason: 'repository messages are switched off (DRONE_REPO_MESSAGES=false)' });
        return this.postEvent(
          `repo:${delivery.action}`,
          this.channelFor(delivery.repo.slug),
          renderRepoMessage(delivery.action, delivery.repo, delivery.user, delivery.system),
          deliveryId,
        );
      case 'build':
        return this.showBuild(delivery.snapshot, delivery.action);
    }
  }

  private async showBuild(snapshot: BuildSnapshot, action: string): Promise<DroneWebhookOutcome> {
    const channelId = this.channelFor(snapshot.repo.slug);
    if (!channelId) {
      this.logger.warn({ repo: snapshot.repo.slug, buildId: snapshot.build.id }, 'Drone webhook ignored: no channel');
      return this.count({
        outcome: 'ignored',
        reason: `no Discord channel is configured for ${snapshot.repo.slug} (DRONE_CHANNEL_ID or DRONE_REPO_CHANNELS)`,
      });
    }
    const key = buildKey(snapshot);
    const status = snapshot.build.status;
    const buildUpdatedAt = snapshot.build.updated > 0 ? new Date(snapshot.build.updated * 1000) : new Date();
    const record = await this.store.ensure(key, {
      channelId,
      repoSlug: snapshot.repo.slug,
      buildNumber: snapshot.build.number,
      status,
      buildUpdatedAt,
    });
    const job = await this.outbox.enqueue<BuildMessageJob>({
      queue: DRONE_QUEUE,
      lane: buildLane(key),
      payload: {
        kind: 'build',
        key,
        channelId: record.channelId,
        order: buildSnapshotOrder(snapshot.build),
        status,
        buildUpdatedAt: buildUpdatedAt.toISOString(),
        message: renderBuildMessage(snapshot),
      },
    });
    this.logger.log(
      { buildId: key.buildId, repo: snapshot.repo.slug, buildNumber: snapshot.build.number, action, status, jobId: job._id.toHexString() },
      'Drone build event queued',
    );

    const finished = await this.outbox.whenFinished(job._id, ANSWER_WAIT_MS);
    const jobId = job._id.toHexString();
    if (finished?.state === 'done') {
      const shown = await this.store.find(key);
      return this.count({
        outcome: 'shown',
        buildId: key.buildId,
        status,
        shownStatus: shown?.syncedStatus ?? null,
        messageId: shown?.messageId ?? null,
      });
    }
    if (finished?.state === 'parked') return this.count({ outcome: 'failed', buildId: key.buildId, jobId, reason: finished.lastError ?? 'refused' });
    return this.count({ outcome: 'queued', buildId: key.buildId, status, jobId });
  }

  private async postEvent(
    event: string,
    channelId: string | undefined,
    message: RESTPostAPIChannelMessageJSONBody,
    deliveryId: string,
  ): Promise<DroneWebhookOutcome> {
    if (!channelId) return this.count({ outcome: 'ignored', reason: `no Discord channel is configured for ${event} messages (DRONE_CHANNEL_ID)` });
    // A repeated delivery gets the first job back (and its answer), kept for OUTBOX_RETENTION_HOURS, far beyond the
    // signature's window; its nonce then also stops a second Discord message if the first job's answer was lost.
    const job = await this.outbox.enqueue<EventMessageJob>({
      queue: DRONE_QUEUE,
      lane: `drone:channel:${channelId}`,
      key: `drone:event:${deliveryId}`,
      payload: { kind: 'event', event, channelId, message },
    });
    const jobId = job._id.toHexString();
    this.logger.log({ event, channelId, jobId }, 'Drone event message queued');
    const finished = await this.outbox.whenFinished(job._id, ANSWER_WAIT_MS);
    if (finished?.state === 'done') {
      const messageId = (finished.result as { messageId?: string } | null)?.messageId ?? null;
      return this.count({ outcome: 'posted', event, messageId });
    }
    if (finished?.state === 'parked') return this.count({ outcome: 'failed', event, jobId, reason: finished.lastError ?? 'refused' });
    return this.count({ outcome: 'queued', event, jobId });
  }

  private count(result: DroneWebhookOutcome, log?: string): DroneWebhookOutcome {
    deliveries.inc({ outcome: result.outcome });
    if (log && 'reason' in result) this.logger.log({ reason: result.reason }, log);
    return result;
  }

  private channelFor(slug: string): string | undefined {
    return this.config.drone.repoChannels[slug.toLowerCase()] ?? this.config.drone.channelId;
  }

  private async runJob(job: OutboxJobRun<DroneJob>): Promise<OutboxOutcome> {
    const payload = job.payload;
    try {
      if (payload.kind === 'event') {
        const posted = await this.discord.createMessage(payload.channelId, { ...payload.message, nonce: nonceOf(job.id), enforce_nonce: true });
        this.logger.log({ event: payload.event, channelId: payload.channelId, messageId: posted.id }, 'Drone event message posted');
        return outcome.done({ messageId: posted.id });
      }
      return await this.showSnapshot(payload);
    } catch (error) {
      return this.failed(payload, error);
    }
  }

  /**
   * Makes the build's one message show this snapshot, unless it already shows one at least as new (a late `running`
   * after `success`, or a repeated delivery). Only this lane's jobs write the record, one at a time.
   */
  private async showSnapshot(job: BuildMessageJob): Promise<OutboxOutcome> {
    const { key } = job;
    const record = await this.store.find(key);
    if (!record) return outcome.park(`build message record ${key.droneHost}/${key.repoId}/${key.buildId} is missing`);
    if (record.messageId && record.syncedOrder >= job.order) return outcome.done({ messageId: record.messageId });

    let messageId = record.messageId;
    if (messageId) {
      try {
        await this.discord.editMessage(record.channelId, messageId, job.message);
      } catch (error) {
        if (!(error instanceof DiscordAPIError) || error.code !== UNKNOWN_MESSAGE) throw error;
        this.logger.warn({ buildId: key.buildId, messageId }, 'Drone build message was deleted in Discord; posting it again');
        await this.store.forgetMessage(key);
        messageId = null;
      }
    }
    if (!messageId) {
      // The nonce makes Discord return the message it already made if a create is repeated after a lost answer.
      const posted = await this.discord.createMessage(record.channelId, { ...job.message, nonce: buildNonce(key), enforce_nonce: true });
      messageId = posted.id;
      this.logger.log({ buildId: key.buildId, messageId, channelId: record.channelId }, 'Drone build message posted');
    }
    await this.store.recordShown(key, { messageId, order: job.order, status: job.status, buildUpdatedAt: new Date(job.buildUpdatedAt) });
    this.logger.log({ buildId: key.buildId, messageId, status: job.status, channelId: record.channelId }, 'Drone build message up to date');
    return outcome.done({ messageId });
  }

  /**
   * A refusal no retry fixes (unknown channel, missing access, invalid body) parks the job, visible in GET /outbox
   * and on the record; everything else, 401 included (fixed by a new token), is retried with the outbox's backoff.
   */
  private async failed(job: DroneJob, error: unknown): Promise<OutboxOutcome> {
    const reason = describeDiscordError(error);
    const refused = error instanceof DiscordAPIError && error.status !== 401 && isPermanentDiscordError(error);
    discordFailures.inc({ kind: refused ? 'permanent' : 'transient' });
    if (job.kind === 'build') await this.store.recordFailure(job.key, reason, refused);
    const ids = job.kind === 'build' ? { buildId: job.key.buildId } : { event: job.event };
    if (refused) {
      this.logger.error({ ...ids, channelId: job.channelId, reason }, 'Discord refused the Drone message; parked');
      return outcome.park(reason);
    }
    this.logger.warn({ ...ids, channelId: job.channelId, reason }, 'Drone message not delivered yet; retrying in the background');
    return outcome.retry(reason, error instanceof RateLimitError ? error.retryAfter : undefined);
  }
}

export function buildKey(snapshot: BuildSnapshot): BuildKey {
  const droneHost = snapshot.system?.host || hostOf(snapshot.system?.link) || 'unknown';
  return { droneHost: droneHost.toLowerCase(), repoId: snapshot.repo.id, buildId: snapshot.build.id };
}

function buildLane(key: BuildKey): string {
  return `drone:build:${key.droneHost}/${key.repoId}/${key.buildId}`;
}

function hostOf(link: string | undefined): string | undefined {
  if (!link) return undefined;
  try {
    return new URL(link).host;
  } catch {
    return undefined;
  }
}

/** Discord nonces are at most 25 characters; one per build. */
function buildNonce(key: BuildKey): string {
  return createHash('sha256').update(`${key.droneHost}/${key.repoId}/${key.buildId}`).digest('hex').slice(0, 25);
}

function nonceOf(jobId: string): string {
  return createHash('sha256').update(jobId).digest('hex').slice(0, 25);
}
