import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { isDuplicateKey } from '../common/duplicate-key';
import { leaseOwnerId } from '../common/lease-owner';
import { SchedulerTerm } from './dashboard.schemas';

/** A term runs out this long after its last renewal: a dead scheduler is replaced within it. */
export const SCHEDULER_LEASE_MS = 30_000;

/**
 * Which replica runs the dashboard schedules. The lease is a sequence of terms, each an insert into a unique `_id`
 * (the claim pattern of the outbox, ADR 0004): nothing here relies on an update being atomic, so it holds on FerretDB
 * v1 as on MongoDB 7. A scheduler that lost its term without noticing can at worst enqueue a tick the new one also
 * enqueues, and the outbox stores those as one job (unique job key per tick).
 */
@Injectable()
export class SchedulerLease {
  readonly holder = leaseOwnerId();
  private term: number | null = null;

  constructor(@InjectModel(SchedulerTerm.name) private readonly terms: Model<SchedulerTerm>) {}

  /** True while this replica holds the live term (renewing it); false when another replica does. */
  async hold(now = new Date()): Promise<boolean> {
    const latest = await this.terms.findOne().sort({ _id: -1 }).lean<SchedulerTerm>();
    const until = new Date(now.getTime() + SCHEDULER_LEASE_MS);
    if (latest && latest.holder === this.holder && latest.until > now) {
      await this.terms.updateOne({ _id: latest._id, holder: this.holder }, { $set: { until } });
      this.term = latest._id;
      return true;
    }
    if (latest && latest.until > now) {
      this.term = null;
      return false;
    }
    const next = (latest?._id ?? 0) + 1;
    try {
      await this.terms.create({ _id: next, holder: this.holder, until });
    } catch (error) {
      if (isDuplicateKey(error)) {
        this.term = null;
        return false;
      }
      throw error;
    }
    this.term = next;
    return true;
  }

  /** Ends this replica's term at shutdown, so another takes over at once instead of after the lease. */
  async release(): Promise<void> {
    if (this.term === null) return;
    const term = this.term;
    this.term = null;
    await this.terms.updateOne({ _id: term, holder: this.holder }, { $set: { until: new Date(0) } });
  }
}
