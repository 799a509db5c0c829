import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Model } from 'mongoose';
import { RateHit } from './rate-hit.schema';

const SWEEP_INTERVAL_MS = 60_000;
const WARN_EVERY_MS = 30_000;

interface ThrottlerStorageRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

/**
 * Rate-limit windows in MongoDB, so every replica counts against the same budget. A sliding log: each request inserts
 * a hit, then counts the hits of its key inside the window; one over the limit takes its hit back and is refused
 * until the hit that filled the window ages out. When MongoDB cannot answer, requests are let through (with a warning)
 * rather than refused: the limit protects Herald, and Herald's own endpoints report MongoDB's absence themselves.
 */
@Injectable()
export class MongoThrottlerStorage implements ThrottlerStorage, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(MongoThrottlerStorage.name);
  private sweeper: NodeJS.Timeout | undefined;
  private lastWarning = 0;

  constructor(@InjectModel(RateHit.name) private readonly hits: Model<RateHit>) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const windowSeconds = Math.ceil(ttl / 1000);
    try {
      const now = Date.now();
      const hit = await this.hits.create({ key, at: now, expiresAt: new Date(now + ttl) });
      const inWindow = { key, at: { $gt: now - ttl } };
      const [totalHits, oldest] = await Promise.all([
        this.hits.countDocuments(inWindow),
        this.hits.find(inWindow, { at: 1 }).sort({ at: 1 }).limit(1).lean(),
      ]);
      if (totalHits <= limit) {
        // X-RateLimit-Reset: seconds until the oldest hit in the window ages out and gives back one request of the budget.
        const timeToExpire = Math.max(1, Math.ceil(((oldest[0]?.at ?? now) + ttl - Date.now()) / 1000));
        return { totalHits, timeToExpire, isBlocked: false, timeToBlockExpire: 0 };
      }

      await this.hits.deleteOne({ _id: hit._id });
      // Admitted again once fewer than `limit` others remain in the window: when the limit-th newest ages out.
      const filling = await this.hits
        .find({ ...inWindow, _id: { $ne: hit._id } }, { at: 1 })
        .sort({ at: -1 })
        .skip(limit - 1)
        .limit(1)
        .lean();
      const freesAt = (filling[0]?.at ?? now) + ttl;
      const retryAfter = Math.max(1, Math.ceil((freesAt - Date.now()) / 1000));
      return { totalHits, timeToExpire: windowSeconds, isBlocked: true, timeToBlockExpire: retryAfter };
    } catch (error) {
      if (Date.now() - this.lastWarning > WARN_EVERY_MS) {
        this.lastWarning = Date.now();
        this.logger.warn({ err: error }, 'Rate limits cannot be counted (MongoDB unavailable); requests are let through');
      }
      return { totalHits: 0, timeToExpire: windowSeconds, isBlocked: false, timeToBlockExpire: 0 };
    }
  }

  private async sweep(): Promise<void> {
    await this.hits.deleteMany({ expiresAt: { $lt: new Date() } }).catch(() => undefined);
  }
}
