import { Injectable, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { isDuplicateKey } from '../common/duplicate-key';
import { LegacyRecordMover } from '../common/legacy-records';
import { BuildMessage } from './build-message.schema';
import type { DroneStatus } from './drone-webhook.types';

/** What identifies a build across deliveries and replicas (the unique index). */
export interface BuildKey {
  droneHost: string;
  repoId: number;
  buildId: number;
}

export interface BuildRecordSeed {
  channelId: string;
  repoSlug: string;
  buildNumber: number;
  status: DroneStatus;
  buildUpdatedAt: Date;
}

export interface ShownSnapshot {
  messageId: string;
  order: string;
  status: DroneStatus;
  buildUpdatedAt: Date;
}

/** The record's `_id`: the numbers first, so no host can make two keys meet. */
export function buildRecordId(key: BuildKey): string {
  return `${key.repoId}/${key.buildId}/${key.droneHost}`;
}

/**
 * MongoDB side of the build ↔ message records, each read and written by `_id` (buildRecordId). The record is inserted
 * once (the unique `_id` makes concurrent first deliveries share it) and then written only by the build's outbox
 * handler, one job at a time.
 *
 * Records written by versions before this one are keyed by an ObjectId; `LegacyRecordMover` moves each under its
 * buildRecordId. While any may remain, a record not found by `_id` is looked for by its key and moved on the spot, so
 * a build that was running during the upgrade keeps its message.
 */
@Injectable()
export class BuildMessageStore implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly legacy: LegacyRecordMover<BuildMessage>;

  constructor(@InjectModel(BuildMessage.name) private readonly model: Model<BuildMessage>) {
    // 'drone_build_unique': older versions' unique index on the key's three fields.
    this.legacy = new LegacyRecordMover<BuildMessage>(() => this.model.collection, buildRecordId, 'drone_build_messages', 'drone_build_unique');
  }

  async onModuleInit(): Promise<void> {
    await this.legacy.dropLegacyIndex();
    await this.model.createIndexes();
  }

  /** Start-up does not wait for the move: until it is done, a miss also looks by the key. */
  onApplicationBootstrap(): void {
    void this.legacy.look();
  }

  onModuleDestroy(): void {
    this.legacy.stop();
  }

  find(key: BuildKey): Promise<BuildMessage | null> {
    const { droneHost, repoId, buildId } = key;
    return this.legacy.find(() => this.model.findById(buildRecordId(key)).lean<BuildMessage>().exec(), { droneHost, repoId, buildId });
  }

  /** The build's record, inserted by the first delivery (which picks the channel); later deliveries find it. */
  async ensure(key: BuildKey, seed: BuildRecordSeed): Promise<BuildMessage> {
    const existing = await this.find(key);
    if (existing) return existing;
    try {
      const created = await this.model.create({
        _id: buildRecordId(key),
        ...key,
        ...seed,
        syncedOrder: '',
        syncedStatus: null,
        messageId: null,
        delivery: 'pending',
      });
      return created.toObject();
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const raced = await this.find(key);
    if (!raced) throw new Error(`build message record ${buildRecordId(key)} vanished`);
    return raced;
  }

  /** Discord now shows this snapshot. */
  async recordShown(key: BuildKey, shown: ShownSnapshot): Promise<void> {
    await this.model.updateOne(
      { _id: buildRecordId(key) },
      {
        $set: {
          messageId: shown.messageId,
          syncedOrder: shown.order,
          syncedStatus: shown.status,
          status: shown.status,
          buildUpdatedAt: shown.buildUpdatedAt,
          delivery: 'sent',
          lastError: null,
        },
      },
    );
  }

  /** The message was deleted in Discord; the handler posts a new one. */
  async forgetMessage(key: BuildKey): Promise<void> {
    await this.model.updateOne({ _id: buildRecordId(key) }, { $set: { messageId: null, syncedOrder: '', syncedStatus: null } });
  }

  /** Discord did not take the snapshot: `refused` (parked) marks the record failed; a transient failure only notes why. */
  async recordFailure(key: BuildKey, reason: string, refused: boolean): Promise<void> {
    await this.model.updateOne(
      { _id: buildRecordId(key) },
      { $set: { lastError: reason, ...(refused ? { delivery: 'failed' } : {}) }, $inc: { failedAttempts: 1 } },
    );
  }
}
