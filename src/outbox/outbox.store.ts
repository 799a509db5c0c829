import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { isDuplicateKey } from '../common/duplicate-key';
import { OutboxClaim, OutboxJob, OutboxJobState, OutboxLaneMark } from './outbox.schema';

export type OutboxJobRecord = OutboxJob;

export interface NewOutboxJob {
  queue: string;
  lane: string;
  payload: unknown;
  /** Enqueueing twice under one key stores one job; the second call gets the first job back. */
  key?: string;
  /** Not before this time (default: now). */
  notBefore?: Date;
}

/** Which jobs of a queue a feature lists: by state, by whether a queued job was tried, by payload fields. */
export interface OutboxJobFilter {
  states?: readonly OutboxJobState[];
  attempted?: boolean;
  payload?: Record<string, string | number>;
}

function jobQuery(queue: string, filter: OutboxJobFilter): Record<string, unknown> {
  const query: Record<string, unknown> = { queue };
  if (filter.states) query.state = { $in: filter.states };
  if (filter.attempted !== undefined) query.attempts = filter.attempted ? { $gt: 0 } : 0;
  for (const [field, value] of Object.entries(filter.payload ?? {})) query[`payload.${field}`] = value;
  return query;
}

/** A claim this worker holds on one job. */
export interface HeldClaim {
  id: string;
  jobId: Types.ObjectId;
  number: number;
  owner: string;
}

/** A lane's work item: the job at its head, or why there is none to run now. */
export type LaneHead = { kind: 'empty' } | { kind: 'waiting'; job: OutboxJobRecord } | { kind: 'due'; job: OutboxJobRecord };

const headId = (lane: string) => `head:${lane}`;
const tailId = (lane: string) => `tail:${lane}`;
/** Enough for any number of replicas enqueueing into one lane at once; each lost round means another took a number. */
const MAX_ENQUEUE_ROUNDS = 1000;

/**
 * Every MongoDB read and write of the outbox. Nothing here relies on an update being atomic: the two decisions that
 * must be exclusive (a job's place in its lane, a worker's claim on a job) are inserts into unique indexes, and every
 * other write is either done by the one holder of a claim or is a forward-only mark that is harmless to repeat.
 * See docs/adr/0004-outbox-claims-by-insert.md for each step and what happens if the database goes away after it.
 */
@Injectable()
export class OutboxStore implements OnModuleInit {
  constructor(
    @InjectModel(OutboxJob.name) private readonly jobs: Model<OutboxJob>,
    @InjectModel(OutboxLaneMark.name) private readonly marks: Model<OutboxLaneMark>,
    @InjectModel(OutboxClaim.name) private readonly claims: Model<OutboxClaim>,
  ) {}

  /** Order and exclusivity depend on the unique indexes: they must exist before the first job is stored. */
  async onModuleInit(): Promise<void> {
    await Promise.all([this.jobs.createIndexes(), this.claims.createIndexes()]);
  }

  /**
   * Stores a job at the end of its lane: seq = the lane's last seq + 1, found from the tail hint and then by inserting
   * under the unique (lane, seq) index until an insert is not a duplicate. Numbers are taken without gaps, so a job
   * stored after another one's enqueue returned always gets a higher seq (acceptance order), on any database.
   */
  async enqueue(input: NewOutboxJob, now = new Date()): Promise<OutboxJobRecord> {
    const _id = new Types.ObjectId();
    const key = input.key ?? `auto:${_id.toHexString()}`;
    if (input.key !== undefined) {
      const existing = await this.jobs.findOne({ key }).lean<OutboxJobRecord>();
      if (existing) return existing;
    }
    const tail = await this.marks.findById(tailId(input.lane)).lean<OutboxLaneMark>();
    if (!tail) await this.insertMark(headId(input.lane), 1);
    let seq = (tail?.value ?? 0) + 1;
    for (let round = 0; round < MAX_ENQUEUE_ROUNDS; round += 1) {
      try {
        const created = await this.jobs.create({
          _id,
          queue: input.queue,
          lane: input.lane,
          seq,
          key,
          payload: input.payload,
          state: 'queued',
          attempts: 0,
          nextAttemptAt: input.notBefore ?? now,
        });
        await this.moveTail(input.lane, seq, tail === null);
        return created.toObject();
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        if (input.key !== undefined) {
          const existing = await this.jobs.findOne({ key }).lean<OutboxJobRecord>();
          if (existing) return existing;
        }
        // Someone took this number: jump to past the tail they have since written, or to the next number.
        const moved = await this.marks.findById(tailId(input.lane)).lean<OutboxLaneMark>();
        seq = Math.max(seq + 1, (moved?.value ?? 0) + 1);
      }
    }
    throw new Error(`Could not find a free place in outbox lane ${input.lane}`);
  }

  find(id: string | Types.ObjectId): Promise<OutboxJobRecord | null> {
    if (typeof id === 'string' && !/^[0-9a-f]{24}$/i.test(id)) return Promise.resolve(null);
    return this.jobs.findById(id).lean<OutboxJobRecord>().exec();
  }

  /**
   * The job a lane works on: the one at `seq = head`, found by equality on the unique index, so it costs the same
   * however many jobs wait behind it. A head that points at a finished job (a worker stopped between recording the
   * outcome and moving the head, or a stale write moved it back) is moved on here.
   */
  async headOf(lane: string, now = new Date()): Promise<LaneHead> {
    const mark = await this.marks.findById(headId(lane)).lean<OutboxLaneMark>();
    let head = mark?.value ?? 1;
    for (;;) {
      const job = await this.jobs.findOne({ lane, seq: head }).lean<OutboxJobRecord>();
      if (!job) return { kind: 'empty' };
      if (job.state === 'queued') return job.nextAttemptAt <= now ? { kind: 'due', job } : { kind: 'waiting', job };
      await this.advanceHead(lane, head);
      head += 1;
    }
  }

  /** Moves a lane past a finished job: `head: seq → seq + 1`, a write that is harmless to repeat. */
  async advanceHead(lane: string, seq: number): Promise<void> {
    const moved = await this.marks.updateOne({ _id: headId(lane), value: seq }, { $set: { value: seq + 1 } });
    if (moved.matchedCount === 0 && seq === 1) await this.insertMark(headId(lane), 2);
  }

  /** Lanes of the given queues with a job due now (the fallback poll; one distinct over an index, not per job). */
  async lanesWithDueWork(queues: string[], now = new Date()): Promise<string[]> {
    if (queues.length === 0) return [];
    return this.jobs.distinct('lane', { state: 'queued', nextAttemptAt: { $lte: now }, queue: { $in: queues } });
  }

  /**
   * Claims a job unless a live claim holds it: claim number = the job's latest claim + 1, inserted under its unique
   * `_id`. Of all workers that read the same latest claim, exactly one insert succeeds; a claim left behind by a
   * crash simply expires, and the next claim after it proceeds.
   */
  async claim(jobId: Types.ObjectId, owner: string, leaseMs: number, now = new Date()): Promise<HeldClaim | null> {
    const latest = await this.latestClaim(jobId);
    if (latest && !latest.released && latest.until > now) return null;
    const number = (latest?.number ?? 0) + 1;
    const id = `${jobId.toHexString()}:${number}`;
    try {
      await this.claims.create({ _id: id, jobId, number, owner, until: new Date(now.getTime() + leaseMs), released: false, at: now });
    } catch (error) {
      if (isDuplicateKey(error)) return null;
      throw error;
    }
    return { id, jobId, number, owner };
  }

  async renew(claim: HeldClaim, leaseMs: number, now = new Date()): Promise<void> {
    await this.claims.updateOne({ _id: claim.id }, { $set: { until: new Date(now.getTime() + leaseMs) } });
  }

  async release(claim: HeldClaim): Promise<void> {
    await this.claims.updateOne({ _id: claim.id }, { $set: { released: true } });
  }

  /** Whether `claim` is still the job's latest claim: checked before a holder records an outcome. */
  async stillHolds(claim: HeldClaim): Promise<boolean> {
    const latest = await this.latestClaim(claim.jobId);
    return latest?._id === claim.id && !latest.released;
  }

  async recordDone(claim: HeldClaim, result: unknown, now = new Date()): Promise<void> {
    await this.finish(claim, 'done', { result: result ?? null, lastError: null }, now);
  }

  async recordParked(claim: HeldClaim, reason: string, now = new Date()): Promise<void> {
    await this.finish(claim, 'parked', { lastError: reason }, now);
  }

  async recordRetry(claim: HeldClaim, reason: string, retryAt: Date): Promise<void> {
    await this.jobs.updateOne({ _id: claim.jobId, state: 'queued' }, { $set: { lastError: reason, nextAttemptAt: retryAt }, $inc: { attempts: 1 } });
  }

  /** Parked jobs, newest first, optionally of one queue. */
  parked(queue?: string, limit = 100): Promise<OutboxJobRecord[]> {
    return this.jobs
      .find({ state: 'parked', ...(queue ? { queue } : {}) })
      .sort({ finishedAt: -1 })
      .limit(limit)
      .lean<OutboxJobRecord[]>()
      .exec();
  }

  /**
   * Sends a parked job again as a new job at the end of its lane (its old place has been passed); the parked one
   * becomes `retried`. Keyed by the parked job, so two retries of one job store one new job.
   */
  async retryParked(job: OutboxJobRecord, now = new Date()): Promise<OutboxJobRecord> {
    const again = await this.enqueue({ queue: job.queue, lane: job.lane, payload: job.payload, key: `retry:${job._id.toHexString()}` }, now);
    await this.jobs.updateOne({ _id: job._id, state: 'parked' }, { $set: { state: 'retried', retriedAs: again._id } });
    return again;
  }

  /** Per-queue numbers for the gauges. */
  async stats(queue: string, now = new Date()): Promise<{ depth: number; parked: number; oldestAgeSeconds: number }> {
    const [depth, parked, oldest] = await Promise.all([
      this.jobs.countDocuments({ queue, state: 'queued' }),
      this.jobs.countDocuments({ queue, state: 'parked' }),
      this.jobs.findOne({ queue, state: 'queued' }, { createdAt: 1 }).sort({ createdAt: 1 }).lean<Pick<OutboxJob, 'createdAt'>>(),
    ]);
    return { depth, parked, oldestAgeSeconds: oldest ? Math.max(0, (now.getTime() - new Date(oldest.createdAt).getTime()) / 1000) : 0 };
  }

  /**
   * A feature's own view of its queue (e.g. GET /vk/deliveries): jobs in these states, oldest first, whose payload has
   * these field values; `attempted` tells queued jobs that failed at least once from those not tried yet.
   */
  list(queue: string, filter: OutboxJobFilter, limit: number): Promise<OutboxJobRecord[]> {
    return this.jobs.find(jobQuery(queue, filter)).sort({ createdAt: 1 }).limit(limit).lean<OutboxJobRecord[]>().exec();
  }

  count(queue: string, filter: OutboxJobFilter): Promise<number> {
    return this.jobs.countDocuments(jobQuery(queue, filter)).exec();
  }

  private async finish(claim: HeldClaim, state: OutboxJobState, fields: Partial<OutboxJob>, now: Date): Promise<void> {
    await this.jobs.updateOne({ _id: claim.jobId, state: 'queued' }, { $set: { ...fields, state, finishedAt: now }, $inc: { attempts: 1 } });
  }

  private latestClaim(jobId: Types.ObjectId): Promise<OutboxClaim | null> {
    // A job has a handful of claims: the sort is over those few, found by the index on jobId.
    return this.claims.findOne({ jobId }).sort({ number: -1 }).lean<OutboxClaim>().exec();
  }

  /** The tail hint only ever moves forward; a lost or stale write costs the next enqueue a few duplicate inserts. */
  private async moveTail(lane: string, seq: number, first: boolean): Promise<void> {
    if (first && (await this.insertMark(tailId(lane), seq))) return;
    await this.marks.updateOne({ _id: tailId(lane), value: { $lt: seq } }, { $set: { value: seq } });
  }

  /** Inserts a mark if it is missing; false when it already existed. */
  private async insertMark(id: string, value: number): Promise<boolean> {
    try {
      await this.marks.create({ _id: id, value });
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }
}
