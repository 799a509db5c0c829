// The single-poller guarantee: a replica polls a community only while it holds that community's lease in MongoDB.
// VK hands each getLongPollServer caller a fresh key and invalidates the previous one, so two pollers would keep
// stealing each other's key; the lease keeps every other replica on standby until the holder stops renewing.
import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKey } from '../common/duplicate-key';
import { leaseOwnerId } from '../common/lease-owner';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { VkPollerLease } from './vk.schemas';

/** The lease runs out this long after its last renewal; a crashed holder is replaced within this time. */
export const LEASE_TTL_MS = 30_000;
export const LEASE_RENEW_EVERY_MS = 10_000;

export class VkLeaseLostError extends Error {
  constructor() {
    super('another replica took over the VK poller lease');
    this.name = 'VkLeaseLostError';
  }
}

/**
 * Taking the lease is an insert of holding `n + 1` after reading the latest holding `n` (see VkPollerLease): of all
 * replicas that read the same `n`, exactly one insert succeeds, with no conditional update that FerretDB v1 would
 * apply as a read then a write. A holding that is not the latest any more has been taken over.
 */
@Injectable()
export class VkLease {
  /** Who we are in the lease document: host, pid and a random part (two processes in one pod stay distinct). */
  readonly holder = leaseOwnerId();
  /** True while this process believes it holds the lease; renewals and `ts` saves check it in MongoDB. */
  held = false;
  private readonly groupId: number;
  private mine: string | null = null;

  constructor(
    @InjectModel(VkPollerLease.name) private readonly leases: Model<VkPollerLease>,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.groupId = config.vk.groupId ?? 0;
  }

  async onModuleInit(): Promise<void> {
    await this.leases.createIndexes();
  }

  /** Takes the lease when it is free, expired or released; answers the `ts` to resume from, or null when another holds it. */
  async acquire(now = new Date()): Promise<{ ts: string | null } | null> {
    const latest = await this.latest();
    if (latest && latest.holder !== this.holder && !latest.released && latest.until > now) return null;
    const number = (latest?.number ?? 0) + 1;
    const id = `${this.groupId}:${number}`;
    const ts = latest?.ts ?? null;
    try {
      await this.leases.create({
        _id: id,
        groupId: this.groupId,
        number,
        holder: this.holder,
        until: this.expiry(now),
        released: false,
        ts,
        tsSavedAt: null,
      });
    } catch (error) {
      if (isDuplicateKey(error)) return null;
      throw error;
    }
    this.mine = id;
    this.held = true;
    // Holdings before the previous one are history; keep the previous one to show who handed over and when.
    await this.leases.deleteMany({ groupId: this.groupId, number: { $lt: number - 1 } }).catch(() => undefined);
    return { ts };
  }

  /** Extends the lease; throws VkLeaseLostError when another replica has taken it since. */
  async renew(): Promise<void> {
    const id = this.requireHeld();
    await this.leases.updateOne({ _id: id }, { $set: { until: this.expiry(new Date()) } });
    await this.checkStillLatest(id);
  }

  /** Hands the lease back at shutdown so a standby replica takes over at once instead of after the TTL. */
  async release(): Promise<void> {
    const id = this.mine;
    this.held = false;
    this.mine = null;
    if (id) await this.leases.updateOne({ _id: id }, { $set: { released: true } });
  }

  /** Saves where polling resumes, in our own holding; throws VkLeaseLostError once another replica holds the lease. */
  async saveTs(ts: string): Promise<void> {
    const id = this.requireHeld();
    await this.checkStillLatest(id);
    await this.leases.updateOne({ _id: id }, { $set: { ts, tsSavedAt: new Date() } });
  }

  private latest(): Promise<VkPollerLease | null> {
    return this.leases.findOne({ groupId: this.groupId }).sort({ number: -1 }).lean<VkPollerLease>().exec();
  }

  private async checkStillLatest(id: string): Promise<void> {
    const latest = await this.latest();
    if (latest?._id !== id) this.lost();
  }

  private requireHeld(): string {
    if (!this.mine) this.lost();
    return this.mine;
  }

  private expiry(now: Date): Date {
    return new Date(now.getTime() + LEASE_TTL_MS);
  }

  private lost(): never {
    this.held = false;
    this.mine = null;
    throw new VkLeaseLostError();
  }
}
