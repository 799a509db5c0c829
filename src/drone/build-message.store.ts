import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model } from 'mongoose';
import { isDuplicateKey } from '../common/duplicate-key';
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

/**
 * MongoDB side of the build ↔ message records. The record is inserted once (the unique index makes concurrent first
 * deliveries share it) and then written only by the build's outbox handler, one job at a time.
 */
@Injectable()
export class BuildMessageStore implements OnModuleInit {
  constructor(@InjectModel(BuildMessage.name) private readonly model: Model<BuildMessage>) {}

  /** The unique index is what makes concurrent first deliveries share one record; it must exist before any. */
  async onModuleInit(): Promise<void> {
    await this.model.init();
  }

  find(key: BuildKey): Promise<BuildMessage | null> {
    return this.model.findOne(key).lean<BuildMessage>().exec();
  }

  /** The build's record, inserted by the first delivery (which picks the channel); later deliveries find it. */
  async ensure(key: BuildKey, seed: BuildRecordSeed): Promise<BuildMessage> {
    const existing = await this.find(key);
    if (existing) return existing;
    try {
      return (await this.model.create({ ...key, ...seed, syncedOrder: '', syncedStatus: null, messageId: null, delivery: 'pending' })).toObject();
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const raced = await this.find(key);
    if (!raced) throw new Error(`build message record ${key.droneHost}/${key.repoId}/${key.buildId} vanished`);
    return raced;
  }

  /** Discord now shows this snapshot. */
  async recordShown(key: BuildKey, shown: ShownSnapshot): Promise<void> {
    await this.model.updateOne(key, {
      $set: {
        messageId: shown.messageId,
        syncedOrder: shown.order,
        syncedStatus: shown.status,
        status: shown.status,
        buildUpdatedAt: shown.buildUpdatedAt,
        delivery: 'sent',
        lastError: null,
      },
    });
  }

  /** The message was deleted in Discord; the handler posts a new one. */
  async forgetMessage(key: BuildKey): Promise<void> {
    await this.model.updateOne(key, { $set: { messageId: null, syncedOrder: '', syncedStatus: null } });
  }

  /** Discord did not take the snapshot: `refused` (parked) marks the record failed; a transient failure only notes why. */
  async recordFailure(key: BuildKey, reason: string, refused: boolean): Promise<void> {
    await this.model.updateOne(key, { $set: { lastError: reason, ...(refused ? { delivery: 'failed' } : {}) }, $inc: { failedAttempts: 1 } });
  }
}
