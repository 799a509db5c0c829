import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { RESTPostAPIChannelMessageJSONBody } from 'discord-api-types/v10';
import { Model } from 'mongoose';
import { KeyedSerializer } from '../common/keyed-serializer';
import { BuildMessage } from './build-message.schema';
import type { DroneStatus } from './drone-webhook.types';

/** What identifies a build across deliveries and replicas (the unique index). */
export interface BuildKey {
  droneHost: string;
  repoId: number;
  buildId: number;
}

export interface BuildMessageSnapshot {
  repoSlug: string;
  buildNumber: number;
  status: DroneStatus;
  buildUpdatedAt: Date;
  order: string;
  message: RESTPostAPIChannelMessageJSONBody;
}

const DUPLICATE_KEY = 11000;

/**
 * Process-wide, so that every replica of the app inside one process (the tests run two) shares it. See
 * KeyedSerializer for why: FerretDB v1 does not apply a conditional update atomically.
 */
const buildWrites = new KeyedSerializer();

function serialKey(key: BuildKey): string {
  return `${key.droneHost}|${key.repoId}|${key.buildId}`;
}

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

/**
 * MongoDB side of the build ↔ message records. Every write is one atomic single-document update guarded by
 * its filter (no transactions needed); the writes of one build are also serialised in the process.
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

  /**
   * Makes sure the build has a record (first delivery picks the channel), then raises its desired snapshot
   * if this one is newer. Returns whether it was newer.
   */
  recordSnapshot(key: BuildKey, channelId: string, snapshot: BuildMessageSnapshot): Promise<boolean> {
    return buildWrites.run(serialKey(key), async () => {
      try {
        await this.model.updateOne(
          key,
          {
            $setOnInsert: {
              ...key,
              channelId,
              repoSlug: snapshot.repoSlug,
              buildNumber: snapshot.buildNumber,
              status: snapshot.status,
              buildUpdatedAt: snapshot.buildUpdatedAt,
              desiredOrder: '',
              desiredMessage: snapshot.message,
              syncedOrder: '',
              syncedStatus: null,
              messageId: null,
              delivery: 'pending',
              lastError: null,
              failedAttempts: 0,
              leaseOwner: null,
              leaseUntil: null,
            },
          },
          { upsert: true },
        );
      } catch (error) {
        // Another delivery inserted it between our lookup and insert: the record exists, which is all we need.
        if (!isDuplicateKey(error)) throw error;
      }
      const raised = await this.model.updateOne(
        { ...key, desiredOrder: { $lt: snapshot.order } },
        {
          $set: {
            repoSlug: snapshot.repoSlug,
            buildNumber: snapshot.buildNumber,
            status: snapshot.status,
            buildUpdatedAt: snapshot.buildUpdatedAt,
            desiredOrder: snapshot.order,
            desiredMessage: snapshot.message,
          },
        },
      );
      return raised.modifiedCount > 0;
    });
  }

  /** Takes the right to talk to Discord for this build, unless a live holder has it. */
  claimLease(key: BuildKey, owner: string, leaseMs: number, now = new Date()): Promise<BuildMessage | null> {
    return buildWrites.run(serialKey(key), async () => {
      return this.model
        .findOneAndUpdate(
          { ...key, $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }] },
          { $set: { leaseOwner: owner, leaseUntil: new Date(now.getTime() + leaseMs) } },
          { new: true },
        )
        .lean<BuildMessage>()
        .exec();
    });
  }

  /** Extends a lease we hold before a slow Discord call; false when it was lost to someone else. */
  renewLease(key: BuildKey, owner: string, leaseMs: number): Promise<boolean> {
    return buildWrites.run(serialKey(key), async () => {
      const result = await this.model.updateOne({ ...key, leaseOwner: owner }, { $set: { leaseUntil: new Date(Date.now() + leaseMs) } });
      return result.matchedCount > 0;
    });
  }

  /**
   * Records the id of the message just posted, unless the build already has one (a holder whose lease had
   * expired posted too). Returns the message id the build keeps.
   */
  attachMessage(key: BuildKey, messageId: string): Promise<string | null> {
    return buildWrites.run(serialKey(key), async () => {
      const attached = await this.model.updateOne({ ...key, messageId: null }, { $set: { messageId } });
      if (attached.modifiedCount > 0) return messageId;
      return (await this.find(key))?.messageId ?? null;
    });
  }

  /** The message was deleted in Discord; the next sync posts a new one. */
  forgetMessage(key: BuildKey, messageId: string): Promise<void> {
    return buildWrites.run(serialKey(key), async () => {
      await this.model.updateOne({ ...key, messageId }, { $set: { messageId: null, syncedOrder: '', syncedStatus: null } });
    });
  }

  /** Discord now shows the snapshot `order`; returns the record as it stands, or null if the lease was lost. */
  markSynced(key: BuildKey, owner: string, order: string, status: DroneStatus, leaseMs: number): Promise<BuildMessage | null> {
    return buildWrites.run(serialKey(key), async () => {
      return this.model
        .findOneAndUpdate(
          { ...key, leaseOwner: owner },
          {
            $set: {
              syncedOrder: order,
              syncedStatus: status,
              delivery: 'sent',
              lastError: null,
              leaseUntil: new Date(Date.now() + leaseMs),
            },
          },
          { new: true },
        )
        .lean<BuildMessage>()
        .exec();
    });
  }

  /**
   * Gives the lease back only if no newer snapshot arrived meanwhile: a delivery that raised the snapshot
   * while we held the lease could not take it, so we must show its snapshot before letting go.
   */
  releaseIfCurrent(key: BuildKey, owner: string, order: string): Promise<boolean> {
    return buildWrites.run(serialKey(key), async () => {
      const released = await this.model.updateOne(
        { ...key, leaseOwner: owner, desiredOrder: order },
        { $set: { leaseOwner: null, leaseUntil: null } },
      );
      return released.modifiedCount > 0;
    });
  }

  /** Discord refused or was unreachable: leave the record visibly failed and free for the next event to retry. */
  markFailed(key: BuildKey, owner: string, reason: string): Promise<void> {
    return buildWrites.run(serialKey(key), async () => {
      await this.model.updateOne(
        { ...key, leaseOwner: owner },
        { $set: { delivery: 'failed', lastError: reason, leaseOwner: null, leaseUntil: null }, $inc: { failedAttempts: 1 } },
      );
    });
  }
}
