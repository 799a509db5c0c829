// The single-poller guarantee: a replica polls a community only while it holds that community's lease in MongoDB.
// VK hands each getLongPollServer caller a fresh key and invalidates the previous one, so two pollers would keep
// stealing each other's key; the lease keeps every other replica on standby until the holder stops renewing.
import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { leaseOwnerId } from '../common/lease-owner';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { isDuplicateKey } from '../common/duplicate-key';
import { NO_LEASE, VkPollerState } from './vk.schemas';

/** The lease runs out this long after its last renewal; a crashed holder is replaced within this time. */
export const LEASE_TTL_MS = 30_000;
export const LEASE_RENEW_EVERY_MS = 10_000;

export class VkLeaseLostError extends Error {
  constructor() {
    super('another replica took over the VK poller lease');
    this.name = 'VkLeaseLostError';
  }
}

@Injectable()
export class VkLease {
  /** Who we are in the lease document: host, pid and a random part (two processes in one pod stay distinct). */
  readonly holder = leaseOwnerId();
  /** True while this process believes it holds the lease; every write that needs the lease re-checks it in MongoDB. */
  held = false;
  private readonly groupId: number;

  constructor(
    @InjectModel(VkPollerState.name) private readonly states: Model<VkPollerState>,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.groupId = config.vk.groupId ?? 0;
  }

  /** Takes the lease when it is free, expired or already ours; the stored state (ts, seq) comes with it. */
  async acquire(): Promise<VkPollerState | null> {
    const now = new Date();
    try {
      const state = await this.states
        .findOneAndUpdate(
          { _id: this.groupId, $or: [{ holder: this.holder }, { holder: null }, { leaseUntil: { $lt: now } }] },
          {
            $set: { holder: this.holder, leaseUntil: new Date(now.getTime() + LEASE_TTL_MS) },
            $setOnInsert: { ts: null, seq: 0, tsSavedAt: null },
          },
          { upsert: true, new: true },
        )
        .lean<VkPollerState>();
      this.held = state !== null;
      return state;
    } catch (error) {
      // The document exists and someone else holds a live lease: the upsert's insert collides on _id.
      if (isDuplicateKey(error)) return null;
      throw error;
    }
  }

  /** Extends the lease; throws VkLeaseLostError when another replica has it now. */
  async renew(): Promise<void> {
    const result = await this.states.updateOne(
      { _id: this.groupId, holder: this.holder },
      { $set: { leaseUntil: new Date(Date.now() + LEASE_TTL_MS) } },
    );
    if (result.matchedCount === 0) this.lost();
  }

  /** Hands the lease back at shutdown so a standby replica takes over at once instead of after the TTL. */
  async release(): Promise<void> {
    this.held = false;
    await this.states.updateOne({ _id: this.groupId, holder: this.holder }, { $set: { holder: null, leaseUntil: NO_LEASE } });
  }

  /** Saves where polling resumes; only the lease holder can. */
  async saveTs(ts: string): Promise<void> {
    const result = await this.states.updateOne({ _id: this.groupId, holder: this.holder }, { $set: { ts, tsSavedAt: new Date() } });
    if (result.matchedCount === 0) this.lost();
  }

  /** Reserves `count` delivery sequence numbers; returns the first. Only the lease holder can. */
  async reserveSeq(count: number): Promise<number> {
    const state = await this.states
      .findOneAndUpdate({ _id: this.groupId, holder: this.holder }, { $inc: { seq: count } }, { new: true })
      .lean<VkPollerState>();
    if (!state) this.lost();
    return state.seq - count + 1;
  }

  private lost(): never {
    this.held = false;
    throw new VkLeaseLostError();
  }
}
