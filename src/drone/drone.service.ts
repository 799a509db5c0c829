import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscordAPIError } from '@discordjs/rest';
import { randomUUID, createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '../common/backoff';
import { telemetry } from '../telemetry/telemetry';
import { APP_CONFIG, AppConfig } from '../config/config';
import { DiscordRest, describeDiscordError, isPermanentDiscordError } from '../discord-api/discord-rest';
import { BuildMessage } from './build-message.schema';
import { BuildKey, BuildMessageStore } from './build-message.store';
import { BuildSnapshot, renderBuildMessage } from './build-message.view';
import { buildSnapshotOrder } from './build-status';
import { readDroneDelivery } from './drone-payload';
import type { DroneStatus } from './drone-webhook.types';

/** What happened to one delivery; the controller turns it into a status code. */
export type DroneWebhookOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'malformed'; reason: string }
  | { outcome: 'shown'; buildId: number; status: DroneStatus; shownStatus: DroneStatus | null; messageId: string | null }
  | { outcome: 'queued'; buildId: number; status: DroneStatus }
  | { outcome: 'failed'; buildId: number; status: DroneStatus; reason: string };

/** Unknown Message: the message was deleted in Discord. */
const UNKNOWN_MESSAGE = 10008;
/** A sync holder longer than this is presumed dead and another delivery takes over. */
const LEASE_MS = 120_000;
/** Our own attempts per Discord call, on top of @discordjs/rest's immediate 5xx retries and 429 waits. */
const DISCORD_ATTEMPTS = 3;

const deliveries = telemetry.counter('herald_drone_webhooks_total', 'Drone webhook deliveries by outcome', ['outcome']);
const discordFailures = telemetry.counter(
  'herald_drone_message_failures_total',
  'Drone build messages Discord did not take (retried on the build\'s next event)',
  ['kind'],
);

class LeaseLost extends Error {}

@Injectable()
export class DroneService {
  private readonly logger = new Logger(DroneService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly store: BuildMessageStore,
    private readonly discord: DiscordRest,
  ) {}

  /** Counts a delivery rejected before it reached the service (signature, JSON). */
  countRejected(outcome: 'unauthorized' | 'malformed'): void {
    deliveries.inc({ outcome });
  }

  /** A verified delivery: record the build's newest state and make its one Discord message show it. */
  async receive(body: unknown): Promise<DroneWebhookOutcome> {
    const delivery = readDroneDelivery(body);
    if (delivery.kind !== 'build') {
      deliveries.inc({ outcome: delivery.kind });
      if (delivery.kind === 'ignored') this.logger.log({ reason: delivery.reason }, 'Drone webhook ignored');
      return { outcome: delivery.kind, reason: delivery.reason };
    }
    const { snapshot } = delivery;
    const channelId = this.channelFor(snapshot.repo.slug);
    if (!channelId) {
      const reason = `no Discord channel is configured for ${snapshot.repo.slug} (DRONE_CHANNEL_ID or DRONE_REPO_CHANNELS)`;
      deliveries.inc({ outcome: 'ignored' });
      this.logger.warn({ repo: snapshot.repo.slug, buildId: snapshot.build.id }, 'Drone webhook ignored: no channel');
      return { outcome: 'ignored', reason };
    }

    const key = buildKey(snapshot);
    const status = snapshot.build.status;
    const newer = await this.store.recordSnapshot(key, channelId, {
      repoSlug: snapshot.repo.slug,
      buildNumber: snapshot.build.number,
      status,
      buildUpdatedAt: snapshot.build.updated > 0 ? new Date(snapshot.build.updated * 1000) : new Date(),
      order: buildSnapshotOrder(snapshot.build),
      message: renderBuildMessage(snapshot),
    });
    this.logger.log(
      { buildId: key.buildId, repo: snapshot.repo.slug, buildNumber: snapshot.build.number, action: delivery.action, status, newer },
      'Drone build event recorded',
    );

    const result = await this.showLatest(key, status);
    deliveries.inc({ outcome: result.outcome });
    return result;
  }

  private channelFor(slug: string): string | undefined {
    return this.config.drone.repoChannels[slug.toLowerCase()] ?? this.config.drone.channelId;
  }

  /**
   * Single-flight sync: whoever takes the lease posts or edits the message until it shows the newest
   * snapshot, then lets go only if nothing newer arrived meanwhile. Deliveries that find the lease taken
   * leave their snapshot to the holder.
   */
  private async showLatest(key: BuildKey, status: DroneStatus): Promise<DroneWebhookOutcome> {
    const owner = randomUUID();
    let record = await this.store.claimLease(key, owner, LEASE_MS);
    if (!record) return { outcome: 'queued', buildId: key.buildId, status };

    try {
      for (;;) {
        const order = record.desiredOrder;
        if (record.messageId && record.syncedOrder === order) {
          if (await this.store.releaseIfCurrent(key, owner, order)) {
            return { outcome: 'shown', buildId: key.buildId, status, shownStatus: record.syncedStatus, messageId: record.messageId };
          }
          record = await this.reload(key);
          continue;
        }
        const messageId = record.messageId ? await this.edit(key, owner, record) : await this.post(key, owner, record);
        if (messageId === null) {
          record = await this.reload(key);
          continue;
        }
        const synced = await this.store.markSynced(key, owner, order, record.status, LEASE_MS);
        if (!synced) throw new LeaseLost();
        if (synced.desiredOrder === order) {
          this.logger.log({ buildId: key.buildId, messageId, status: record.status, channelId: record.channelId }, 'Drone build message up to date');
        }
        record = synced;
      }
    } catch (error) {
      if (error instanceof LeaseLost) {
        this.logger.warn({ buildId: key.buildId }, 'Drone build sync lease expired; the new holder finishes the message');
        return { outcome: 'queued', buildId: key.buildId, status };
      }
      const reason = describeDiscordError(error);
      const kind = isPermanentDiscordError(error) ? 'permanent' : 'transient';
      discordFailures.inc({ kind });
      await this.store.markFailed(key, owner, reason);
      this.logger.error({ buildId: key.buildId, repo: record.repoSlug, channelId: record.channelId, kind, reason }, 'Drone build message not delivered; retried on the next event');
      return { outcome: 'failed', buildId: key.buildId, status, reason };
    }
  }

  /** Posts the build's message; returns its id, or null when the record changed under us and must be re-read. */
  private async post(key: BuildKey, owner: string, record: BuildMessage): Promise<string | null> {
    const message = await this.callDiscord(key, owner, () =>
      // The nonce makes Discord return the existing message instead of a second one if a create is retried.
      this.discord.createMessage(record.channelId, { ...record.desiredMessage, nonce: messageNonce(key), enforce_nonce: true }),
    );
    const kept = await this.store.attachMessage(key, message.id);
    if (kept === message.id) {
      this.logger.log({ buildId: key.buildId, messageId: message.id, channelId: record.channelId }, 'Drone build message posted');
      return message.id;
    }
    // A holder whose lease had run out posted too; the build keeps the first message.
    this.logger.warn({ buildId: key.buildId, duplicateId: message.id, keptId: kept }, 'Removing a duplicate Drone build message');
    await this.discord.deleteMessage(record.channelId, message.id).catch((error: unknown) =>
      this.logger.error({ buildId: key.buildId, messageId: message.id, reason: describeDiscordError(error) }, 'Could not remove duplicate message'),
    );
    return null;
  }

  private async edit(key: BuildKey, owner: string, record: BuildMessage): Promise<string | null> {
    const messageId = record.messageId as string;
    try {
      await this.callDiscord(key, owner, () => this.discord.editMessage(record.channelId, messageId, record.desiredMessage));
      return messageId;
    } catch (error) {
      if (!(error instanceof DiscordAPIError) || error.code !== UNKNOWN_MESSAGE) throw error;
      this.logger.warn({ buildId: key.buildId, messageId }, 'Drone build message was deleted in Discord; posting it again');
      await this.store.forgetMessage(key, messageId);
      return null;
    }
  }

  /** Retries what @discordjs/rest gave up on (after its own 429 waits and 5xx retries), with backoff. */
  private async callDiscord<T>(key: BuildKey, owner: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (!(await this.store.renewLease(key, owner, LEASE_MS))) throw new LeaseLost();
      try {
        return await call();
      } catch (error) {
        if (attempt >= DISCORD_ATTEMPTS || isPermanentDiscordError(error)) throw error;
        this.logger.warn({ buildId: key.buildId, attempt, reason: describeDiscordError(error) }, 'Discord call failed; retrying');
        await sleep(backoffDelay(attempt, this.config.outbox.backoffBaseMs, this.config.outbox.backoffMaxMs));
      }
    }
  }

  private async reload(key: BuildKey): Promise<BuildMessage> {
    const record = await this.store.find(key);
    if (!record) throw new Error(`build message record ${key.droneHost}/${key.repoId}/${key.buildId} vanished`);
    return record;
  }
}

export function buildKey(snapshot: BuildSnapshot): BuildKey {
  const droneHost = snapshot.system?.host || hostOf(snapshot.system?.link) || 'unknown';
  return { droneHost: droneHost.toLowerCase(), repoId: snapshot.repo.id, buildId: snapshot.build.id };
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
function messageNonce(key: BuildKey): string {
  return createHash('sha256').update(`${key.droneHost}/${key.repoId}/${key.buildId}`).digest('hex').slice(0, 25);
}
