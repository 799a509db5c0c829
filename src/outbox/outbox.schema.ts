import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { Schema as MongooseSchema, Types } from 'mongoose';

/** `queued` until its handler says otherwise; `done` and `parked` are final, `retried` is a parked job sent again as a new job. */
export const OUTBOX_JOB_STATES = ['queued', 'done', 'parked', 'retried'] as const;
export type OutboxJobState = (typeof OUTBOX_JOB_STATES)[number];

/**
 * One unit of durable work. `(lane, seq)` is unique: `seq` is the job's place in its lane, taken by inserting at the
 * lane's next free number (see OutboxStore.enqueue), never from a counter. The `_id` is derived from `(lane, seq)`
 * (jobIdAt), so the job at a lane's place is found by `_id`: the `_id` index on MongoDB, the one filter FerretDB v1
 * hands to SQLite (which still scans; see ADR 0004).
 */
@Schema({ collection: 'outbox_jobs', timestamps: true, versionKey: false, minimize: false })
export class OutboxJob {
  _id!: Types.ObjectId;

  /** The feature whose handler runs it, e.g. `notify`, `drone`. */
  @Prop({ type: String, required: true })
  queue!: string;

  /** Ordering key: one job of a lane runs at a time, in `seq` order, e.g. `drone:build:<host>/<repo>/<build>`. */
  @Prop({ type: String, required: true })
  lane!: string;

  @Prop({ type: Number, required: true })
  seq!: number;

  /**
   * Unique for every job, so the unique index needs no partial filter (FerretDB v1 has none): a feature's own
   * dedupe key, or `auto:<id>`. Enqueueing again under the same key returns the job already stored.
   */
  @Prop({ type: String, required: true })
  key!: string;

  @Prop({ type: MongooseSchema.Types.Mixed, required: true })
  payload!: unknown;

  @Prop({ type: String, required: true, enum: OUTBOX_JOB_STATES })
  state!: OutboxJobState;

  /** Handler runs whose outcome was recorded. */
  @Prop({ type: Number, required: true, default: 0 })
  attempts!: number;

  @Prop({ type: Date, required: true })
  nextAttemptAt!: Date;

  @Prop({ type: String, default: null })
  lastError!: string | null;

  /** What a `done` handler handed back (e.g. a Discord message id), for callers that wait on the job. */
  @Prop({ type: MongooseSchema.Types.Mixed, default: null })
  result!: unknown;

  @Prop({ type: Date, default: null })
  finishedAt!: Date | null;

  /**
   * Set when the caller made the job's one attempt itself before storing it and the answer was final (the backend
   * refusing a callback for good): the job is parked with this reason when first claimed, its handler not run, so the
   * attempt is not repeated and an operator still finds it in GET /outbox and can send it again.
   */
  @Prop({ type: String, required: false })
  parkOnFirstRun?: string;

  /** A parked job sent again: the id of the job that carries it now. */
  @Prop({ type: Types.ObjectId, default: null })
  retriedAs!: Types.ObjectId | null;

  /**
   * Set on every job of a short, finished lane when the sweep drops the lane's tail mark (phase 1 of sweeping its
   * marks); the jobs and the head mark go at a sweep at least an hour later unless the lane took work meanwhile
   * (OutboxStore.sweepFinished, ADR 0004).
   */
  @Prop({ type: Date, required: false })
  laneSweepAt?: Date;

  /**
   * Set by the sweep on an old finished job of a short lane whose other jobs finished later: the lane is swept with
   * its marks once they are old too, not job by job (which would leave its marks for ever).
   */
  @Prop({ type: Date, required: false })
  sweepAfter?: Date;

  createdAt!: Date;
  updatedAt!: Date;
}

export const OutboxJobSchema = SchemaFactory.createForClass(OutboxJob);
OutboxJobSchema.index({ lane: 1, seq: 1 }, { unique: true, name: 'outbox_lane_seq' });
OutboxJobSchema.index({ key: 1 }, { unique: true, name: 'outbox_key' });
// For listings (OutboxStore.list: a queue's jobs in some states by (createdAt, _id), either way, from a cursor), counts
// and ad-hoc queries on MongoDB; no per-job step of the outbox filters on these fields. It replaces
// `outbox_queue_state` (the same without `_id`, which OutboxStore.onModuleInit drops).
OutboxJobSchema.index({ queue: 1, state: 1, createdAt: 1, _id: 1 }, { name: 'outbox_listing' });
// The retention sweep's query (OutboxStore.sweepFinished).
OutboxJobSchema.index({ state: 1, finishedAt: 1 }, { name: 'outbox_finished' });
// Phase 2 of sweeping a lane's marks: the jobs whose lane lost its tail mark an hour ago.
OutboxJobSchema.index({ laneSweepAt: 1 }, { name: 'outbox_lane_sweep' });

/**
 * A lane's two marks, one document each so that writers of one never rewrite the other (FerretDB v1 writes the whole
 * document): `head:<lane>` is the seq of the job the lane works on; `tail:<lane>` is a hint of the last seq taken.
 * Both only move forward (`$max`, filtered by `_id` alone), by writes that are harmless to repeat; a stale write that
 * moves one back (FerretDB applies `$max` as a read then a write) is corrected by the readers (the head walks over
 * finished jobs, enqueue probes past taken numbers).
 */
@Schema({ collection: 'outbox_lanes', versionKey: false })
export class OutboxLaneMark {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Number, required: true })
  value!: number;
}

export const OutboxLaneMarkSchema = SchemaFactory.createForClass(OutboxLaneMark);

/**
 * One document per claim of a job, `_id` = `<job id>:<claim number>`, the number being the job's latest claim + 1.
 * Inserting it is what makes a claim exclusive, on MongoDB and on FerretDB alike; it is written afterwards only by its
 * holder (renewal, release), so no two writers ever race on one claim document. A job's claims are numbered 1, 2, …
 * without gaps, so the latest is found by `_id` lookups (see OutboxStore.claim), never by a query on `jobId`.
 */
@Schema({ collection: 'outbox_claims', versionKey: false })
export class OutboxClaim {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Types.ObjectId, required: true })
  jobId!: Types.ObjectId;

  @Prop({ type: Number, required: true })
  number!: number;

  @Prop({ type: String, required: true })
  owner!: string;

  /** The holder's lease; another worker may claim once it has passed. */
  @Prop({ type: Date, required: true })
  until!: Date;

  @Prop({ type: Boolean, required: true, default: false })
  released!: boolean;

  @Prop({ type: Date, required: true })
  at!: Date;
}

export const OutboxClaimSchema = SchemaFactory.createForClass(OutboxClaim);
// Only for the retention sweep, which deletes the claims of many finished jobs at once.
OutboxClaimSchema.index({ jobId: 1 }, { name: 'outbox_claim_job' });

/**
 * A lane that may have work, `_id` = the lane, so the poll reads this small collection (one document per lane with
 * queued jobs) instead of the jobs. Written before and after every enqueue; removed by a worker that found the lane
 * empty, which then looks at the lane once more (see OutboxStore.headOf). `at`: when the lane's head may next run.
 */
@Schema({ collection: 'outbox_due_lanes', versionKey: false })
export class OutboxDueLane {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true })
  queue!: string;

  @Prop({ type: Date, required: true })
  at!: Date;
}

export const OutboxDueLaneSchema = SchemaFactory.createForClass(OutboxDueLane);
OutboxDueLaneSchema.index({ at: 1 }, { name: 'outbox_due_lane_at' });

/**
 * A feature's dedupe key → its job, written beside every keyed job by versions up to 2026-11-30 so that a repeated
 * enqueue found the job by `_id`. Nothing writes or reads it now (a repeat reads the job by its unique `key` index);
 * the sweep deletes these documents with their jobs, so the collection empties within OUTBOX_RETENTION_HOURS.
 */
@Schema({ collection: 'outbox_keys', versionKey: false })
export class OutboxKey {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: Types.ObjectId, required: true })
  jobId!: Types.ObjectId;
}

export const OutboxKeySchema = SchemaFactory.createForClass(OutboxKey);

/** A parked job (`_id` = the job's), for GET /outbox and the parked gauge; removed when the job is sent again. */
@Schema({ collection: 'outbox_parked', versionKey: false })
export class OutboxParkedMark {
  @Prop({ type: Types.ObjectId, required: true })
  _id!: Types.ObjectId;

  @Prop({ type: String, required: true })
  queue!: string;

  @Prop({ type: Date, required: true })
  at!: Date;
}

export const OutboxParkedMarkSchema = SchemaFactory.createForClass(OutboxParkedMark);
// GET /outbox: the marks of every queue or of one, by (at, _id) either way, from a cursor.
OutboxParkedMarkSchema.index({ at: 1, _id: 1 }, { name: 'outbox_parked_at' });
OutboxParkedMarkSchema.index({ queue: 1, at: 1, _id: 1 }, { name: 'outbox_parked_queue_at' });

export const OUTBOX_MODELS = [
  { name: OutboxJob.name, schema: OutboxJobSchema },
  { name: OutboxLaneMark.name, schema: OutboxLaneMarkSchema },
  { name: OutboxClaim.name, schema: OutboxClaimSchema },
  { name: OutboxDueLane.name, schema: OutboxDueLaneSchema },
  { name: OutboxKey.name, schema: OutboxKeySchema },
  { name: OutboxParkedMark.name, schema: OutboxParkedMarkSchema },
];
