import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { FilterQuery, Model, Types, UpdateQuery } from 'mongoose';
import type { NotificationMessage } from './notification-message';
import { DeliveryError, NO_LEASE, Notification, NotificationClaim, NotificationSequence } from './notification.schema';

export type NotificationRecord = Notification;

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;
const SEQUENCE_ID = 'notifications';
const RELEASE = { leaseOwner: null, leaseUntil: NO_LEASE };
/** Counted when a Discord call's outcome is recorded, so `attempts` is the number of calls made. */
const ATTEMPT = { attempts: 1 };

export interface NewNotification {
  channelId: string;
  message: NotificationMessage;
  idempotencyKey?: string;
}

/**
 * Every MongoDB read and write of notifications. All state changes a worker makes are conditioned on holding the
 * lease (`leaseOwner`), so a worker whose lease was taken over cannot overwrite the new holder's result. Those
 * conditional updates rely on MongoDB's atomic single-document writes; FerretDB v1 (tests) applies an update as a
 * read followed by a write, so there only the claim itself (a unique insert) is guaranteed exclusive.
 */
@Injectable()
export class NotificationStore implements OnModuleInit {
  constructor(
    @InjectModel(Notification.name) private readonly notifications: Model<Notification>,
    @InjectModel(NotificationSequence.name) private readonly sequences: Model<NotificationSequence>,
    @InjectModel(NotificationClaim.name) private readonly claimLog: Model<NotificationClaim>,
  ) {}

  /** Idempotency depends on the unique index, so it must exist before the first request is accepted. */
  async onModuleInit(): Promise<void> {
    await Promise.all([this.notifications.createIndexes(), this.claimLog.createIndexes()]);
  }

  /**
   * Stores a new queued notification, or returns the one already stored under the same Idempotency-Key within
   * 24 hours. Two concurrent requests with one key race on the unique index: one inserts, the other reads it.
   */
  async accept(input: NewNotification, now = new Date()): Promise<{ notification: NotificationRecord; replayed: boolean }> {
    for (let round = 0; round < 5; round += 1) {
      const _id = new Types.ObjectId();
      const idempotencyKey = input.idempotencyKey === undefined ? `auto:${_id.toHexString()}` : `key:${input.idempotencyKey}`;
      const seq = await this.nextSeq();
      try {
        const created = await this.notifications.create({
          _id,
          seq,
          channelId: input.channelId,
          message: input.message,
          state: 'queued',
          pending: 'create',
          nextAttemptAt: now,
          idempotencyKey,
          idempotencyExpiresAt: input.idempotencyKey === undefined ? null : new Date(now.getTime() + IDEMPOTENCY_WINDOW_MS),
        });
        return { notification: created.toObject(), replayed: false };
      } catch (error) {
        if (!isDuplicateKey(error) || input.idempotencyKey === undefined) throw error;
      }
      const first = await this.notifications.findOne({ idempotencyKey }).lean<NotificationRecord>();
      if (first && first.idempotencyExpiresAt && first.idempotencyExpiresAt > now) return { notification: first, replayed: true };
      if (first) {
        // The key is older than 24 hours: retire it from the old notification (a harmless repeat if two requests do
        // this at once) and insert again; the unique index lets one of them in.
        await this.notifications.updateOne(
          { _id: first._id, idempotencyKey },
          { $set: { idempotencyKey: `expired:${first._id.toHexString()}:${input.idempotencyKey}` } },
        );
      }
    }
    throw new Error(`Could not store a notification under Idempotency-Key after several attempts`);
  }

  async find(id: string): Promise<NotificationRecord | null> {
    if (!Types.ObjectId.isValid(id) || !/^[0-9a-f]{24}$/i.test(id)) return null;
    return this.notifications.findById(id).lean<NotificationRecord>();
  }

  /** Replaces what a queued notification will show; the worker sends the newest revision. */
  async reviseQueued(id: Types.ObjectId, message: NotificationMessage): Promise<boolean> {
    return this.changed({ _id: id, state: 'queued', deleteRequested: false }, { $set: { message }, $inc: { revision: 1 } });
  }

  /** Replaces what a sent message shows and owes Discord an edit. */
  async reviseSent(id: Types.ObjectId, message: NotificationMessage, now = new Date()): Promise<boolean> {
    return this.changed(
      { _id: id, state: 'sent', deleteRequested: false },
      { $set: { message, pending: 'edit', nextAttemptAt: now, failures: 0 }, $inc: { revision: 1 } },
    );
  }

  /** A queued notification nobody is sending right now is simply never sent. */
  async cancelQueued(id: Types.ObjectId, now = new Date()): Promise<boolean> {
    return this.changed(
      { _id: id, state: 'queued', leaseUntil: { $lte: now } },
      { $set: { state: 'deleted', pending: null, deleteRequested: true } },
    );
  }

  /** Marks any live notification for deletion; for a sent one the worker owes Discord a delete. */
  async requestDelete(id: Types.ObjectId, now = new Date()): Promise<boolean> {
    if (await this.changed({ _id: id, state: 'queued' }, { $set: { deleteRequested: true } })) return true;
    if (await this.changed({ _id: id, state: 'failed' }, { $set: { state: 'deleted', pending: null, deleteRequested: true } })) return true;
    return this.changed(
      { _id: id, state: 'sent', deleteRequested: false },
      { $set: { deleteRequested: true, pending: 'delete', nextAttemptAt: now, failures: 0 } },
    );
  }

  // ---- worker side ----

  async channelsWithQueue(): Promise<string[]> {
    return this.notifications.distinct('channelId', { state: 'queued' });
  }

  /** The oldest queued notification of a channel: the only one of that channel that may be sent next. */
  async headOf(channelId: string): Promise<NotificationRecord | null> {
    return this.notifications.findOne({ channelId, state: 'queued' }).sort({ seq: 1, _id: 1 }).lean<NotificationRecord>();
  }

  /**
   * Takes the lease on a due notification that no live worker holds (a crashed worker's lease has expired), given
   * as last read. Exclusive because the claim document's `_id` is unique: of all workers that saw claim number n,
   * exactly one inserts claim n + 1, also on FerretDB where findOneAndUpdate is a read followed by a write.
   */
  async claim(candidate: NotificationRecord, owner: string, leaseMs: number, now = new Date()): Promise<NotificationRecord | null> {
    if (!isDue(candidate, now)) return null;
    const number = candidate.claims + 1;
    try {
      await this.claimLog.create({ _id: `${candidate._id.toHexString()}:${number}`, notificationId: candidate._id, owner, at: now });
    } catch (error) {
      if (isDuplicateKey(error)) return null;
      throw error;
    }
    const claimed = await this.notifications
      .findOneAndUpdate(
        { _id: candidate._id, claims: candidate.claims },
        { $set: { claims: number, leaseOwner: owner, leaseUntil: new Date(now.getTime() + leaseMs) } },
        { new: true },
      )
      .lean<NotificationRecord>();
    if (!claimed) return null;
    if (!isDue({ ...claimed, leaseUntil: NO_LEASE }, now)) {
      // Finished, cancelled or rescheduled since it was read: nothing to do, but the claim number stays used.
      await this.release(claimed, owner);
      return null;
    }
    return claimed;
  }

  /** Claims the most overdue edit or delete of a sent message, in any channel. */
  async claimDueChange(owner: string, leaseMs: number, now = new Date()): Promise<NotificationRecord | null> {
    const candidates = await this.notifications
      .find({ pending: { $in: ['edit', 'delete'] }, nextAttemptAt: { $lte: now }, leaseUntil: { $lte: now } })
      .sort({ nextAttemptAt: 1 })
      .limit(5)
      .lean<NotificationRecord[]>();
    for (const candidate of candidates) {
      const claimed = await this.claim(candidate, owner, leaseMs, now);
      if (claimed) return claimed;
    }
    return null;
  }

  /** Claims are kept long after any worker could still act on an old read, then dropped. */
  async pruneClaims(olderThan: Date): Promise<void> {
    await this.claimLog.deleteMany({ at: { $lt: olderThan } });
  }

  async renewLease(id: Types.ObjectId, owner: string, leaseMs: number, now = new Date()): Promise<boolean> {
    return this.changed({ _id: id, leaseOwner: owner }, { $set: { leaseUntil: new Date(now.getTime() + leaseMs) } });
  }

  /**
   * Discord now shows `revision`. Whatever a client asked for meanwhile (another PATCH, a DELETE) becomes the next
   * pending operation; the three conditional updates decide that without a transaction.
   */
  async recordShown(
    record: NotificationRecord,
    owner: string,
    revision: number,
    fields: { messageId?: string; sentAt?: Date },
    now = new Date(),
  ): Promise<void> {
    const shown = { ...fields, state: 'sent', sentRevision: revision, failures: 0, ...RELEASE };
    const mine = { _id: record._id, leaseOwner: owner };
    if (await this.changed({ ...mine, revision, deleteRequested: false }, { $set: { ...shown, pending: null }, $inc: ATTEMPT })) return;
    if (await this.changed({ ...mine, deleteRequested: true }, { $set: { ...shown, pending: 'delete', nextAttemptAt: now }, $inc: ATTEMPT })) return;
    await this.changed(mine, { $set: { ...shown, pending: 'edit', nextAttemptAt: now }, $inc: ATTEMPT });
  }

  /** Deleted from Discord, or (`calledDiscord` false) cancelled before it was ever sent. */
  async recordDeleted(record: NotificationRecord, owner: string, calledDiscord = true): Promise<void> {
    await this.changed(
      { _id: record._id, leaseOwner: owner },
      { $set: { state: 'deleted', pending: null, ...RELEASE }, ...(calledDiscord ? { $inc: ATTEMPT } : {}) },
    );
  }

  /**
   * Discord refused for good. A refused create ends as `failed`; a refused edit or delete leaves the message as it is,
   * unless Discord says the message no longer exists (`gone`).
   */
  async recordRefused(record: NotificationRecord, owner: string, error: DeliveryError, gone = false): Promise<void> {
    const outcome = record.state === 'queued' ? { state: 'failed' } : gone ? { state: 'deleted' } : {};
    await this.changed({ _id: record._id, leaseOwner: owner }, {
      $set: { ...outcome, pending: null, lastError: error, failures: 0, ...RELEASE },
      $inc: ATTEMPT,
    });
  }

  /** A transient failure: try again at `retryAt`; a queued notification keeps its place at the head of its channel. */
  async recordRetry(record: NotificationRecord, owner: string, error: DeliveryError, retryAt: Date): Promise<void> {
    await this.changed(
      { _id: record._id, leaseOwner: owner },
      { $set: { lastError: error, nextAttemptAt: retryAt, ...RELEASE }, $inc: { failures: 1, ...ATTEMPT } },
    );
  }

  /** Gives the lease back untouched, e.g. when shutting down before the Discord call was made. */
  async release(record: NotificationRecord, owner: string): Promise<void> {
    await this.changed({ _id: record._id, leaseOwner: owner }, { $set: RELEASE });
  }

  private async changed(filter: FilterQuery<Notification>, update: UpdateQuery<Notification>): Promise<boolean> {
    const result = await this.notifications.updateOne(filter, update);
    return result.matchedCount > 0;
  }

  /** Acceptance order that holds across replicas (ObjectIds from two processes do not sort by arrival). */
  private async nextSeq(): Promise<number> {
    for (let round = 0; ; round += 1) {
      try {
        const counter = await this.sequences
          .findOneAndUpdate({ _id: SEQUENCE_ID }, { $inc: { value: 1 } }, { upsert: true, new: true })
          .lean<NotificationSequence>();
        return counter.value;
      } catch (error) {
        // Two first-ever upserts race on _id; the loser simply increments the winner's document.
        if (!isDuplicateKey(error) || round >= 2) throw error;
      }
    }
  }
}

/** Owes Discord a call that is due, and no live worker holds it. */
function isDue(record: NotificationRecord, now: Date): boolean {
  return record.pending !== null && record.nextAttemptAt <= now && record.leaseUntil <= now;
}

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}
