import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { createHash } from 'node:crypto';
import type { Collection } from 'mongodb';
import { Model, Types } from 'mongoose';
import { driverCollection, KEEP_UNDEFINED_OUT } from '../common/driver-collection';
import { isDuplicateKey } from '../common/duplicate-key';
import { type OutboxPageRequest, pageFilter, pageSort } from './outbox-page';
import { OutboxClaim, OutboxDueLane, OutboxJob, OutboxJobState, OutboxKey, OutboxLaneMark, OutboxParkedMark } from './outbox.schema';

export type OutboxJobRecord = OutboxJob;

export interface NewOutboxJob {
  queue: string;
  lane: string;
  payload: unknown;
  /** Enqueueing twice under one key stores one job; the second call gets the first job back. */
  key?: string;
  /** Not before this time (default: now). */
  notBefore?: Date;
  /** The caller's own attempt was final: park the job with this reason when it first runs (see OutboxJob.parkOnFirstRun). */
  parkOnFirstRun?: string;
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

/** A queued job at its lane's head: due now, or waiting for its next attempt. */
export function queuedHead(job: OutboxJobRecord, now: Date): LaneHead {
  return job.nextAttemptAt <= now ? { kind: 'due', job } : { kind: 'waiting', job };
}

const headId = (lane: string) => `head:${lane}`;
const tailId = (lane: string) => `tail:${lane}`;
const claimId = (jobId: Types.ObjectId, number: number) => `${jobId.toHexString()}:${number}`;
/** More parked jobs than this in one lane are not read by parkedInLane (a lane is a message's or a dashboard's). */
const PARKED_IN_LANE_LIMIT = 100;
/** Finished for good: a done job, or a parked one that was sent again as a new job. */
const SWEPT_STATES: OutboxJobState[] = ['done', 'retried'];
/** Lanes whose depth and oldest job the gauges read exactly, per queue and refresh (see stats). */
const STATS_EXACT_LANES = 100;
/** A lane of at most this many jobs, all finished, is swept with its marks (see sweepFinished). */
const SHORT_LANE = 16;
/** Between phase 1 and phase 2 of sweeping a lane's marks: far longer than an enqueue may use a tail it read. */
export const LANE_SWEEP_GRACE_MS = 60 * 60_000;
/** An enqueue reads the tail again before inserting on a read older than this (see enqueue). */
const MAX_TAIL_AGE_MS = 60_000;
/** What the sweep reads of a job. */
type SweptJob = Pick<OutboxJob, '_id' | 'lane' | 'seq' | 'key' | 'state' | 'finishedAt'>;
const SWEPT_FIELDS = { lane: 1, seq: 1, key: 1, state: 1, finishedAt: 1 } as const;
/** Enough for any number of replicas enqueueing into one lane at once; each lost round means another took a number. */
const MAX_ENQUEUE_ROUNDS = 1000;

/**
 * The `_id` of the job at `seq` in `lane`: the first 12 bytes of SHA-256 over both, as an ObjectId (so ids look and
 * validate as before). The head lookup is then `findById`: on MongoDB a point read of the `_id` index; FerretDB v1
 * hands exactly this filter to SQLite, which still scans the table (its `_id` index is on another expression, see ADR
 * 0004), and evaluates any other filter in Go after reading every document, several times slower.
 */
export function jobIdAt(lane: string, seq: number): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(`${lane}\u0000${seq}`).digest().subarray(0, 12));
}

/**
 * Every MongoDB read and write of the outbox. Nothing here relies on an update being atomic: the two decisions that
 * must be exclusive (a job's place in its lane, a worker's claim on a job) are inserts into unique indexes, and every
 * other write is either done by the one holder of a claim or is a forward-only mark that is harmless to repeat.
 * Every step a job takes filters on `_id` alone, so on MongoDB it costs the same however many jobs are stored; on
 * FerretDB v1, where every read scans its table, it is the cheapest scan there is, and sweepFinished keeps the tables
 * to what is queued plus OUTBOX_RETENTION_HOURS of history. The poll and the gauges read the small collection of
 * lanes with work.
 * See docs/adr/0004-outbox-claims-by-insert.md for each step and what happens if the database goes away after it.
 */
@Injectable()
export class OutboxStore implements OnModuleInit {
  constructor(
    @InjectModel(OutboxJob.name) private readonly jobs: Model<OutboxJob>,
    @InjectModel(OutboxLaneMark.name) private readonly marks: Model<OutboxLaneMark>,
    @InjectModel(OutboxClaim.name) private readonly claims: Model<OutboxClaim>,
    @InjectModel(OutboxDueLane.name) private readonly dueLanes: Model<OutboxDueLane>,
    @InjectModel(OutboxKey.name) private readonly keys: Model<OutboxKey>,
    @InjectModel(OutboxParkedMark.name) private readonly parkedMarks: Model<OutboxParkedMark>,
  ) {}

  // The steps every job takes go to the driver's collections (through Mongoose's connection, so they wait for it as
  // the models do). In a bench profile of a burst of bot messages, Mongoose's query and document machinery (building a
  // Query or a Document, casting, hooks, cloning) cost Herald more CPU than the driver under it, for steps that need
  // none of it: each reads or writes one document by `_id`, with values already of their stored types. The models
  // keep the schemas, the indexes and the rarer reads (listings, counts, the sweep, the gauges).
  private get jobRows(): Collection<OutboxJob> {
    return driverCollection(this.jobs);
  }
  private get markRows(): Collection<OutboxLaneMark> {
    return driverCollection(this.marks);
  }
  private get claimRows(): Collection<OutboxClaim> {
    return driverCollection(this.claims);
  }
  private get dueLaneRows(): Collection<OutboxDueLane> {
    return driverCollection(this.dueLanes);
  }

  /** Order and exclusivity depend on the unique indexes: they must exist before the first job is stored. */
  async onModuleInit(): Promise<void> {
    await Promise.all([this.jobs.createIndexes(), this.dueLanes.createIndexes(), this.parkedMarks.createIndexes(), this.dropReplacedIndex()]);
  }

  /** `outbox_queue_state` (versions up to 2026-12-01) is a prefix of `outbox_listing`: every job write paid for both. */
  private async dropReplacedIndex(): Promise<void> {
    const collection = this.jobs.collection;
    if (await collection.indexExists('outbox_queue_state').catch(() => false)) {
      await collection.dropIndex('outbox_queue_state').catch(() => undefined);
    }
  }

  /**
   * Stores a job at the end of its lane: seq = the lane's last seq + 1, found from the tail hint and then by inserting
   * under the unique `_id` (derived from lane and seq) until an insert is not a duplicate. Numbers are taken without
   * gaps, so a job stored after another one's enqueue returned always gets a higher seq (acceptance order), on any
   * database. The lane is marked as having work before and after the insert (see headOf for why both). `onStored` is
   * told of the job once it is stored and marked, before the tail hint is written, so a worker can start on it
   * meanwhile: a later enqueue that reads the tail hint before it moves takes the next free place anyway (the insert
   * loop below).
   *
   * A key already taken is found by the insert itself (the unique `key` index refuses it), not by a read before it:
   * almost every enqueue carries a new key, and the read cost each of them a command. A repeat then pays a few more
   * (it marks the lane, reads the tail, then the job by its key: the `key` index on MongoDB, a scan on FerretDB v1),
   * and gets the first job back; if that job is still queued (a repeat after a failure between storing the job and
   * its second mark), its lane is marked again. Nothing else is written for the key: a key document beside each job
   * (versions up to 2026-11-30) cost every keyed enqueue an insert to spare the rare repeat that one read.
   */
  async enqueue(input: NewOutboxJob, now = new Date(), onStored?: (job: OutboxJobRecord) => void): Promise<OutboxJobRecord> {
    const key = input.key ?? `auto:${new Types.ObjectId().toHexString()}`;
    const nextAttemptAt = input.notBefore ?? now;
    // The mark must land before the insert; the tail hint is read beside it. Its age counts from when it was asked for.
    let tailAskedAt = performance.now();
    const [, tail] = await Promise.all([this.markDue(input.lane, input.queue, nextAttemptAt), this.markValue(tailId(input.lane))]);
    let seq = tail + 1;
    for (let round = 0; round < MAX_ENQUEUE_ROUNDS; round += 1) {
      // Never insert on a tail hint older than a minute (a stalled process or connection): the sweep may have dropped
      // the lane's tail since, and its finished jobs with it an hour later (ADR 0004, *Sweeping the lane marks*).
      while (performance.now() - tailAskedAt > MAX_TAIL_AGE_MS) {
        tailAskedAt = performance.now();
        seq = (await this.markValue(tailId(input.lane))) + 1;
      }
      const _id = jobIdAt(input.lane, seq);
      try {
        // Every field the schema declares, with its default: the document a Mongoose `create` would have written.
        const at = new Date();
        const stored: OutboxJobRecord = {
          _id,
          queue: input.queue,
          lane: input.lane,
          seq,
          key,
          payload: input.payload,
          state: 'queued',
          attempts: 0,
          nextAttemptAt,
          lastError: null,
          result: null,
          finishedAt: null,
          retriedAs: null,
          ...(input.parkOnFirstRun === undefined ? {} : { parkOnFirstRun: input.parkOnFirstRun }),
          createdAt: at,
          updatedAt: at,
        };
        await this.jobRows.insertOne({ ...stored }, KEEP_UNDEFINED_OUT);
        await this.markDue(input.lane, input.queue, nextAttemptAt);
        // The job can run from here on; what follows serves the next enqueue.
        onStored?.(stored);
        await this.raiseMark(tailId(input.lane), seq);
        return stored;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        const taken = await this.jobRows.findOne({ _id });
        if (input.key !== undefined && (taken?.key === key || !taken)) {
          // Our key is stored already: by a concurrent enqueue at this place, or (no job here) elsewhere.
          const existing = taken ?? (await this.jobRows.findOne({ key }));
          if (existing) {
            if (existing.state === 'queued' && existing.lane !== input.lane)
              await this.markDue(existing.lane, existing.queue, existing.nextAttemptAt);
            return existing;
          }
        }
        // Someone took this number: jump to past the tail they have since written, or to the next number.
        tailAskedAt = performance.now();
        seq = Math.max(seq + 1, (await this.markValue(tailId(input.lane))) + 1);
      }
    }
    throw new Error(`Could not find a free place in outbox lane ${input.lane}`);
  }

  find(id: string | Types.ObjectId): Promise<OutboxJobRecord | null> {
    if (typeof id === 'string' && !/^[0-9a-f]{24}$/i.test(id)) return Promise.resolve(null);
    return this.jobRows.findOne({ _id: typeof id === 'string' ? new Types.ObjectId(id) : id });
  }

  /**
   * The job a lane works on: the one at `seq = head`, read by its `_id`, so (on MongoDB) it costs the same however many jobs wait
   * behind it. A head that points at a finished job (a worker stopped between recording the outcome and moving the
   * head, or a stale write moved it back) is moved on here. A lane found empty leaves the due set; it is then read
   * once more, because an enqueue may have stored its job after the first read and marked the lane before the
   * removal: either this second read sees that job (the lane is marked again), or the enqueue's second mark comes
   * after the removal. `likelyEmpty` (a worker that just finished a job of a lane that seldom holds two): remove the
   * lane first and read once, which is the same argument without the first read.
   *
   * A lane with no head mark is read from place 1. If a place it reaches is missing, the lane is not called empty
   * before one query for its lowest queued job from there on: without the mark, the missing place may be a swept job
   * (its mark lost: a dropped `outbox_lanes`, a partial restore) with queued work above it. This query filters on
   * `lane` (an index read on MongoDB, a scan on FerretDB); a lane whose head mark exists never makes it, and one
   * without meets it only while its first job is not stored yet (ADR 0004, *Open*: rule 3 of sweeping the marks).
   */
  async headOf(lane: string, now = new Date(), from?: number, likelyEmpty = false): Promise<LaneHead> {
    // `from`: a worker that just moved the head knows where it is; starting lower only walks over finished jobs.
    const mark = from ?? (await this.markValue(headId(lane)));
    let head = Math.max(1, mark);
    let unmarked = from === undefined && mark === 0;
    let removed = false;
    let markedAgain = false;
    if (likelyEmpty) {
      await this.dueLaneRows.deleteOne({ _id: lane });
      removed = true;
    }
    for (;;) {
      const job = await this.jobAt(lane, head);
      if (!job && unmarked) {
        unmarked = false;
        const above = await this.lowestQueued(lane, head);
        if (above !== undefined) {
          head = above;
          continue;
        }
      }
      if (!job) {
        if (removed) return { kind: 'empty' };
        await this.dueLaneRows.deleteOne({ _id: lane });
        removed = true;
        continue;
      }
      if (removed && !markedAgain) {
        await this.markDue(lane, job.queue, job.nextAttemptAt);
        markedAgain = true;
      }
      if (job.state === 'queued') return queuedHead(job, now);
      await this.advanceHead(lane, head);
      head += 1;
    }
  }

  /** Moves a lane past a finished job: `head → seq + 1` unless it is there already, a write that is harmless to repeat. */
  async advanceHead(lane: string, seq: number): Promise<void> {
    await this.raiseMark(headId(lane), seq + 1);
  }

  /** Lanes of the given queues whose head may be due (the poll): one read of the small collection of lanes with work. */
  async lanesWithDueWork(queues: string[], now = new Date()): Promise<{ lane: string; queue: string }[]> {
    if (queues.length === 0) return [];
    const lanes = await this.dueLanes
      .find({ queue: { $in: queues }, at: { $lte: now } }, { _id: 1, queue: 1 })
      .lean<Pick<OutboxDueLane, '_id' | 'queue'>[]>();
    return lanes.map((lane) => ({ lane: lane._id, queue: lane.queue }));
  }

  /**
   * Claims a job unless a live claim holds it: claim number = the job's latest claim + 1, inserted under its unique
   * `_id`. Of all workers that read the same latest claim, exactly one insert succeeds; a claim left behind by a
   * crash simply expires, and the next claim after it proceeds. A job never run is claimed by inserting #1 straight
   * away; otherwise, given the job (not only its id), the search for the latest claim starts at its `attempts` (every
   * recorded attempt had its own claim), so it usually takes one read.
   */
  async claim(
    job: Types.ObjectId | Pick<OutboxJobRecord, '_id' | 'attempts'>,
    owner: string,
    leaseMs: number,
    now = new Date(),
  ): Promise<HeldClaim | null> {
    const [jobId, attempts] = 'attempts' in job ? [job._id, job.attempts] : [job, 0];
    if (attempts === 0) {
      // Claims are numbered without gaps: with no #1 nobody ever claimed the job, so #1 is the claim to take, and
      // trying it first saves the read. Taken already (a worker ran it, or runs it now): look for the latest below.
      const first = await this.insertClaim(jobId, 1, owner, leaseMs, now);
      if (first) return first;
    }
    const latest = await this.latestClaim(jobId, attempts);
    if (latest && !latest.released && latest.until > now) return null;
    return this.insertClaim(jobId, (latest?.number ?? 0) + 1, owner, leaseMs, now);
  }

  /** Inserts claim `number` of a job; null when that number is taken (another worker's insert won). */
  private async insertClaim(jobId: Types.ObjectId, number: number, owner: string, leaseMs: number, now: Date): Promise<HeldClaim | null> {
    const id = claimId(jobId, number);
    try {
      await this.claimRows.insertOne({ _id: id, jobId, number, owner, until: new Date(now.getTime() + leaseMs), released: false, at: now });
    } catch (error) {
      if (isDuplicateKey(error)) return null;
      throw error;
    }
    return { id, jobId, number, owner };
  }

  async renew(claim: HeldClaim, leaseMs: number, now = new Date()): Promise<void> {
    await this.claimRows.updateOne({ _id: claim.id }, { $set: { until: new Date(now.getTime() + leaseMs) } });
  }

  async release(claim: HeldClaim): Promise<void> {
    await this.claimRows.updateOne({ _id: claim.id }, { $set: { released: true } });
  }

  /** Whether `claim` is still the job's latest claim and not released: checked before a holder records an outcome. */
  async stillHolds(claim: HeldClaim): Promise<boolean> {
    const [mine, next] = await Promise.all([
      this.claimRows.findOne({ _id: claim.id }),
      this.claimRows.findOne({ _id: claimId(claim.jobId, claim.number + 1) }),
    ]);
    return mine !== null && !mine.released && next === null;
  }

  async recordDone(claim: HeldClaim, result: unknown, now = new Date()): Promise<void> {
    await this.finish(claim, 'done', { result: result ?? null, lastError: null }, now);
  }

  /** The parked mark goes first: a stop before the job's state is written leaves a mark that the listing skips. */
  async recordParked(claim: HeldClaim, reason: string, now = new Date()): Promise<void> {
    const job = await this.jobs.findById(claim.jobId, { queue: 1 }).lean<Pick<OutboxJob, 'queue'>>();
    if (job) await this.parkedMarks.create({ _id: claim.jobId, queue: job.queue, at: now }).catch(ignoreDuplicate);
    await this.finish(claim, 'parked', { lastError: reason }, now);
  }

  /** Also tells the other replicas' polls to leave the lane alone until then (its holder's process sets a timer). */
  async recordRetry(claim: HeldClaim, reason: string, retryAt: Date): Promise<void> {
    await this.jobRows.updateOne(
      { _id: claim.jobId },
      { $set: { lastError: reason, nextAttemptAt: retryAt, updatedAt: new Date() }, $inc: { attempts: 1 } },
    );
    const job = await this.jobRows.findOne({ _id: claim.jobId }, { projection: { lane: 1, queue: 1 } });
    if (job) await this.markDue(job.lane, job.queue, retryAt, '$set');
  }

  /**
   * Parked jobs, optionally of one queue, in the order of when they were parked, read through the parked marks (not
   * the jobs) by their (`at`, `_id`) index. Answers the marks read (`limit` of them at most, for the page's cursor)
   * and the jobs among them still parked (a mark whose job is not parked is left over from a stop between two writes).
   */
  async parked(queue: string | undefined, page: OutboxPageRequest): Promise<{ marks: OutboxParkedMark[]; jobs: OutboxJobRecord[] }> {
    const marks = await this.parkedMarks
      .find({ ...(queue ? { queue } : {}), ...pageFilter('at', page) })
      .sort(pageSort('at', page.order))
      .limit(page.limit)
      .lean<OutboxParkedMark[]>();
    const jobs = await Promise.all(marks.map((mark) => this.jobs.findById(mark._id).lean<OutboxJobRecord>()));
    return { marks, jobs: jobs.filter((job): job is OutboxJobRecord => job?.state === 'parked') };
  }

  /**
   * One lane's parked jobs, in lane order, through the lane's (`lane`, `seq`) index: what a feature reads to hold a
   * lane's later job behind an earlier one parked (a message's callbacks), whatever else is parked in the queue.
   */
  parkedInLane(lane: string, limit = PARKED_IN_LANE_LIMIT): Promise<OutboxJobRecord[]> {
    return this.jobs.find({ lane, state: 'parked' }).sort({ lane: 1, seq: 1 }).limit(limit).lean<OutboxJobRecord[]>().exec();
  }

  /**
   * Sends a parked job again as a new job at the end of its lane (its old place has been passed); the parked one
   * becomes `retried`. Keyed by the parked job, so two retries of one job store one new job.
   */
  async retryParked(job: OutboxJobRecord, now = new Date()): Promise<OutboxJobRecord> {
    const again = await this.enqueue({ queue: job.queue, lane: job.lane, payload: job.payload, key: `retry:${job._id.toHexString()}` }, now);
    await this.jobs.updateOne({ _id: job._id }, { $set: { state: 'retried', retriedAs: again._id } });
    await this.parkedMarks.deleteOne({ _id: job._id });
    return again;
  }

  /**
   * Per-queue numbers for the gauges, from the lanes with work (three `_id` reads each), not from the jobs: depth is
   * the sum of `tail − head + 1` over those lanes, the oldest job is the oldest lane head, parked counts the marks.
   * Only the `exactLanes` lanes due longest are read; any further lane with work counts as one job (a burst of the
   * bot's messages is a thousand lanes of one job each: reading them all every 15 s on every replica was 3,000 reads
   * per refresh). The oldest job is among the lanes due longest, unless a retry moved its lane's due time past theirs.
   */
  async stats(queue: string, now = new Date(), exactLanes = STATS_EXACT_LANES): Promise<{ depth: number; parked: number; oldestAgeSeconds: number }> {
    const lanes = await this.dueLanes.find({ queue }, { _id: 1 }).sort({ at: 1 }).lean<Pick<OutboxDueLane, '_id'>[]>();
    let depth = Math.max(0, lanes.length - exactLanes);
    let oldest = now.getTime();
    for (const { _id: lane } of lanes.slice(0, exactLanes)) {
      const [head, tail] = await Promise.all([this.markValue(headId(lane)), this.markValue(tailId(lane))]);
      const first = await this.jobAt(lane, Math.max(1, head));
      if (first?.state !== 'queued') continue;
      depth += Math.max(1, (tail || first.seq) - first.seq + 1);
      oldest = Math.min(oldest, new Date(first.createdAt).getTime());
    }
    const parked = await this.parkedMarks.countDocuments({ queue });
    return { depth, parked, oldestAgeSeconds: Math.max(0, (now.getTime() - oldest) / 1000) };
  }

  /**
   * Deletes jobs of these queues that finished (done, or parked and then sent again) before `cutoff`, with their claims
   * (and older versions' key documents), up to `limit` per step; answers how many it deleted and how many the larger
   * step looked at (a full step means there may be more). Two kinds of lane are swept differently:
   *
   * - **A short lane whose every job is finished and old** (at most SHORT_LANE jobs, none swept before, none parked:
   *   most lanes, e.g. one per message or notification) loses its marks with its jobs, in two phases (ADR 0004,
   *   *Sweeping the lane marks*). Phase 1 notes the time on its jobs (`laneSweepAt`) and deletes its tail mark; an
   *   enqueue from then on probes from place 1 over the finished jobs, which stay for that, and its insert recreates
   *   the tail. Phase 2, at a sweep at least LANE_SWEEP_GRACE_MS later, finds the tail still missing and the place
   *   after the head still empty, and deletes the head mark, then the jobs; otherwise it hands the jobs back to the
   *   ordinary sweep. Such a lane whose later jobs are not old yet is left whole until they are (`sweepAfter`).
   * - **Any other lane** keeps its marks and loses its old jobs: a job is deleted only once its lane's head is past it
   *   (so headOf never looks for it) and the tail hint has reached it (so an enqueue never takes its number again);
   *   the rare job a stopped worker left behind a mark that did not move gets the mark moved first.
   *
   * Every step is harmless to repeat and to run on two replicas at once, and a stop between two of them leaves the
   * rest to the next sweep. Parked jobs stay until someone sends them again; a key can be used again once its job is
   * deleted.
   */
  async sweepFinished(queues: string[], cutoff: Date, limit = 500, now = new Date()): Promise<{ deleted: number; examined: number }> {
    if (queues.length === 0) return { deleted: 0, examined: 0 };
    const marked = await this.sweepMarkedLanes(queues, now, limit);
    const old = await this.jobs
      .find(
        {
          queue: { $in: queues },
          state: { $in: SWEPT_STATES },
          finishedAt: { $lt: cutoff },
          laneSweepAt: { $exists: false },
          $or: [{ sweepAfter: { $exists: false } }, { sweepAfter: { $lt: cutoff } }],
        },
        SWEPT_FIELDS,
      )
      .limit(limit)
      .lean<SweptJob[]>();
    if (old.length === 0) return { deleted: marked.deleted, examined: marked.examined };
    const last = new Map<string, number>();
    for (const job of old) last.set(job.lane, Math.max(last.get(job.lane) ?? 0, job.seq));
    const ids = [...last.keys()].flatMap((lane) => [headId(lane), tailId(lane)]);
    const known = await this.markValues(ids);

    const whole = await this.shortFinishedLanes(old, known);
    const dropTails: string[] = [];
    const laneJobs: Types.ObjectId[] = [];
    const later: { ids: Types.ObjectId[]; after: Date }[] = [];
    for (const [lane, jobs] of whole) {
      const newest = Math.max(...jobs.map((job) => new Date(job.finishedAt as Date).getTime()));
      if (newest < cutoff.getTime()) {
        dropTails.push(lane);
        laneJobs.push(...jobs.map((job) => job._id));
      } else {
        later.push({ ids: jobs.map((job) => job._id), after: new Date(newest) });
      }
    }
    // Phase 1: the note on the jobs first, so a stop before the tail is deleted leaves a lane phase 2 hands back.
    if (laneJobs.length > 0) await this.jobRows.updateMany({ _id: { $in: laneJobs } }, { $set: { laneSweepAt: now } });
    if (dropTails.length > 0) await this.markRows.deleteMany({ _id: { $in: dropTails.map(tailId) } });
    for (const { ids: waiting, after } of later) await this.jobRows.updateMany({ _id: { $in: waiting } }, { $set: { sweepAfter: after } });

    const ordinary = old.filter((job) => !whole.has(job.lane));
    for (const [lane, seq] of last) {
      if (whole.has(lane)) continue;
      if ((known.get(headId(lane)) ?? 0) <= seq) await this.advanceHead(lane, seq);
      if ((known.get(tailId(lane)) ?? 0) < seq) await this.raiseMark(tailId(lane), seq);
    }
    await this.deleteJobs(ordinary);
    return { deleted: marked.deleted + ordinary.length, examined: Math.max(marked.examined, old.length) };
  }

  /**
   * Of the lanes of these old jobs, those swept whole with their marks (see sweepFinished), with every job of each:
   * a head mark past at most SHORT_LANE places and past the tail hint, a finished (done or retried) job of the lane at
   * every place it passed, and none at the head. The places not among `old` are read in one query by `_id`.
   */
  private async shortFinishedLanes(old: SweptJob[], known: Map<string, number>): Promise<Map<string, SweptJob[]>> {
    const byId = new Map(old.map((job) => [job._id.toHexString(), job]));
    const candidates = new Map<string, number>();
    for (const lane of new Set(old.map((job) => job.lane))) {
      // The head has passed places 1..head-1, so each holds a finished job (the tail is only a hint and may lag).
      const [head, tail] = [known.get(headId(lane)), known.get(tailId(lane)) ?? 0];
      if (head !== undefined && head - 1 <= SHORT_LANE && tail <= head - 1) candidates.set(lane, head);
    }
    // Every place up to the head, which must be empty: a job there is work the tail hint has not caught up with.
    const places = (lane: string, head: number) => Array.from({ length: head }, (_, index) => jobIdAt(lane, index + 1));
    const missing = [...candidates].flatMap(([lane, head]) => places(lane, head)).filter((id) => !byId.has(id.toHexString()));
    if (missing.length > 0) {
      const more = await this.jobs.find({ _id: { $in: missing } }, SWEPT_FIELDS).lean<SweptJob[]>();
      for (const job of more) byId.set(job._id.toHexString(), job);
    }
    const whole = new Map<string, SweptJob[]>();
    for (const [lane, head] of candidates) {
      const found = places(lane, head).map((id) => byId.get(id.toHexString()));
      const passed = found.slice(0, head - 1);
      const complete = passed.every(
        (job, index) => job !== undefined && job.lane === lane && job.seq === index + 1 && SWEPT_STATES.includes(job.state) && job.finishedAt,
      );
      if (complete && found[head - 1] === undefined) whole.set(lane, passed as SweptJob[]);
    }
    return whole;
  }

  /**
   * Phase 2 of sweeping short lanes with their marks: the jobs noted at least LANE_SWEEP_GRACE_MS ago. A lane whose
   * tail mark is back, or whose next place holds a job, took work since phase 1: its jobs go back to the ordinary
   * sweep. Otherwise its head mark goes, then its jobs (an enqueue meanwhile finds no tail and probes from place 1;
   * where it lands above deleted places, headOf finds it by its one query for a lane without a head mark).
   */
  private async sweepMarkedLanes(queues: string[], now: Date, limit: number): Promise<{ deleted: number; examined: number }> {
    const ready = await this.jobs
      .find({ queue: { $in: queues }, laneSweepAt: { $lte: new Date(now.getTime() - LANE_SWEEP_GRACE_MS) } }, SWEPT_FIELDS)
      .limit(limit)
      .lean<SweptJob[]>();
    if (ready.length === 0) return { deleted: 0, examined: 0 };
    const byLane = new Map<string, SweptJob[]>();
    for (const job of ready) byLane.set(job.lane, [...(byLane.get(job.lane) ?? []), job]);
    // One read of the lanes' marks and one of the places after them, not three reads per lane (each a scan on FerretDB).
    const lanes = [...byLane.keys()];
    const marks = await this.markValues(lanes.flatMap((lane) => [headId(lane), tailId(lane)]));
    const next = new Map(
      lanes.map((lane) => [lane, jobIdAt(lane, Math.max(marks.get(headId(lane)) ?? 0, ...(byLane.get(lane) ?? []).map((job) => job.seq + 1)))]),
    );
    const asked = lanes.filter((lane) => marks.has(headId(lane)) && !marks.has(tailId(lane))).map((lane) => next.get(lane) as Types.ObjectId);
    const taken = new Set(
      asked.length === 0
        ? []
        : (await this.jobRows.find({ _id: { $in: asked } }, { projection: { _id: 1 } }).toArray()).map((job) => job._id.toHexString()),
    );
    const handBack: Types.ObjectId[] = [];
    const heads: string[] = [];
    const gone: SweptJob[] = [];
    for (const [lane, jobs] of byLane) {
      const tookWork = marks.has(tailId(lane)) || (marks.has(headId(lane)) && taken.has((next.get(lane) as Types.ObjectId).toHexString()));
      if (tookWork) handBack.push(...jobs.map((job) => job._id));
      else {
        if (marks.has(headId(lane))) heads.push(headId(lane));
        gone.push(...jobs);
      }
    }
    if (handBack.length > 0) await this.jobRows.updateMany({ _id: { $in: handBack } }, { $unset: { laneSweepAt: '' } });
    // The head marks before the jobs: a head mark left above deleted places would hide an enqueue at place 1 below it.
    if (heads.length > 0) await this.markRows.deleteMany({ _id: { $in: heads } });
    await this.deleteJobs(gone);
    return { deleted: gone.length, examined: ready.length };
  }

  /**
   * Finished jobs with their claims and any key documents versions up to 2026-11-30 wrote for them (a job that is not
   * finished, by any chance, stays).
   */
  private async deleteJobs(jobs: Pick<OutboxJob, '_id' | 'key'>[]): Promise<void> {
    if (jobs.length === 0) return;
    const jobIds = jobs.map((job) => job._id);
    await this.claims.deleteMany({ jobId: { $in: jobIds } });
    await this.keys.deleteMany({ _id: { $in: jobs.map((job) => job.key) } });
    await this.jobs.deleteMany({ _id: { $in: jobIds }, state: { $in: SWEPT_STATES } });
  }

  /**
   * A feature's own view of its queue (e.g. GET /vk/deliveries): jobs in these states whose payload has these field
   * values, by (`createdAt`, `_id`) in the page's order (the `outbox_listing` index); `attempted` tells queued jobs
   * that failed at least once from those not tried yet.
   */
  list(queue: string, filter: OutboxJobFilter, page: OutboxPageRequest): Promise<OutboxJobRecord[]> {
    return this.jobs
      .find({ ...jobQuery(queue, filter), ...pageFilter('createdAt', page) })
      .sort(pageSort('createdAt', page.order))
      .limit(page.limit)
      .lean<OutboxJobRecord[]>()
      .exec();
  }

  count(queue: string, filter: OutboxJobFilter): Promise<number> {
    return this.jobs.countDocuments(jobQuery(queue, filter)).exec();
  }

  private async finish(claim: HeldClaim, state: OutboxJobState, fields: Partial<OutboxJob>, now: Date): Promise<void> {
    await this.jobRows.updateOne(
      { _id: claim.jobId },
      { $set: { ...fields, state, finishedAt: now, updatedAt: new Date() }, $inc: { attempts: 1 } },
      KEEP_UNDEFINED_OUT,
    );
  }

  /** The job at a lane's place; a job of another lane under the same `_id` (a 96-bit hash collision) counts as none. */
  private async jobAt(lane: string, seq: number): Promise<OutboxJobRecord | null> {
    const job = await this.jobRows.findOne({ _id: jobIdAt(lane, seq) });
    if (job && (job.lane !== lane || job.seq !== seq)) return { ...job, state: 'done' };
    return job;
  }

  /**
   * The job's latest claim, by `_id` lookups: claims are numbered 1, 2, … without gaps and `atLeast` exist, so it
   * gallops forward from there and halves the last step (1 read for a job never claimed, 2 for one claimed once).
   */
  private async latestClaim(jobId: Types.ObjectId, atLeast: number): Promise<OutboxClaim | null> {
    const read = (number: number) => this.claimRows.findOne({ _id: claimId(jobId, number) });
    let latest = atLeast > 0 ? await read(atLeast) : null;
    let low = latest ? atLeast : 0;
    let step = 1;
    let high: number;
    for (;;) {
      const probe = await read(low + step);
      if (!probe) {
        high = low + step;
        break;
      }
      [low, latest, step] = [low + step, probe, step * 2];
    }
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      const probe = await read(middle);
      if (probe) [low, latest] = [middle, probe];
      else high = middle;
    }
    return latest;
  }

  /** The lowest place at or above `from` that holds a queued job of the lane, by a query on `lane` (see headOf). */
  private async lowestQueued(lane: string, from: number): Promise<number | undefined> {
    const [job] = await this.jobRows
      .find({ lane, seq: { $gte: from }, state: 'queued' }, { projection: { seq: 1 } })
      .sort({ seq: 1 })
      .limit(1)
      .toArray();
    return job?.seq;
  }

  /** The values of the lane marks among `ids` that exist, in one read. */
  private async markValues(ids: string[]): Promise<Map<string, number>> {
    return new Map((await this.marks.find({ _id: { $in: ids } }).lean<OutboxLaneMark[]>()).map((mark) => [mark._id, mark.value]));
  }

  /** A lane mark's value (0 when it was never written). */
  private async markValue(id: string): Promise<number> {
    return (await this.markRows.findOne({ _id: id }))?.value ?? 0;
  }

  /** Moves a lane mark forward to `value` (never back): a write that is harmless to repeat. */
  private async raiseMark(id: string, value: number): Promise<void> {
    await this.markRows.updateOne({ _id: id }, { $max: { value } }, { upsert: true }).catch(ignoreDuplicate);
  }

  /**
   * Puts a lane in the due set, due no later than `at` (`$min`), or due at `at` (`$set`, when its head is backing off
   * until then): a write by `_id` that is harmless to repeat.
   */
  private async markDue(lane: string, queue: string, at: Date, how: '$min' | '$set' = '$min'): Promise<void> {
    const update = how === '$min' ? { $min: { at }, $set: { queue } } : { $set: { at, queue } };
    const write = () => this.dueLaneRows.updateOne({ _id: lane }, update, { upsert: true });
    try {
      await write();
    } catch (error) {
      // Two upserts of a missing document can both try the insert; the loser finds the document on its second try.
      if (!isDuplicateKey(error)) throw error;
      await write();
    }
  }
}

/** For writes whose only possible conflict is that another writer did the same thing first. */
function ignoreDuplicate(error: unknown): void {
  if (!isDuplicateKey(error)) throw error;
}
