import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { KeyedSerializer } from '../common/keyed-serializer';
import { BackendCallback, BackendEventName, MessageImage, NO_LEASE } from './message-image.schema';
import type { MessageSnapshot } from './message-snapshot';

export type MessageImageRecord = MessageImage;

/** Where a rendered image is: its s3:// URN and, with S3_PUBLIC_URL, its public URL. */
export interface StoredImage {
  urn: string | null;
  url?: string;
}

export type EditOutcome = 'changed' | 'unchanged' | 'unknown' | 'gone';
/** current: S3 holds the latest revision; superseded: an older one (more work is owed); lost: the lease had expired. */
export type RenderOutcome = 'current' | 'superseded' | 'lost';

const LIVE = ['pending', 'rendered'];
const OWED_WORK = ['pending', 'deleting'];

/**
 * Every MongoDB read and write of message images. Work on a record (rendering, deleting the object, delivering a
 * callback) is done under a lease, and every result is written on the condition that the lease is still held and
 * the record did not move on meanwhile, so a late worker can never overwrite newer state.
 *
 * That relies on MongoDB's atomic single-document updates. FerretDB v1 (the tests' database) applies an update as
 * a read followed by a write of the whole document, so two concurrent updates of one record can lose one of them;
 * the writes of one record are therefore also serialised inside the process, which is all a test run has.
 */
@Injectable()
export class MessageImageStore implements OnModuleInit {
  private readonly writing = new KeyedSerializer();

  constructor(@InjectModel(MessageImage.name) private readonly images: Model<MessageImage>) {}

  /** The unique index on messageId is what makes a replayed MESSAGE_CREATE harmless. */
  async onModuleInit(): Promise<void> {
    await this.images.createIndexes();
  }

  /** Records a new message whose image goes to `key`; false when it is known already (a gateway replay after a resume). */
  recordNew(snapshot: MessageSnapshot, key: string, now = new Date()): Promise<boolean> {
    return this.exclusive(snapshot.messageId, async () => {
      const result = await this.images.updateOne(
        { messageId: snapshot.messageId },
        {
          $setOnInsert: {
            messageId: snapshot.messageId,
            guildId: snapshot.guildId,
            channelId: snapshot.channelId,
            authorId: snapshot.authorId,
            guildName: snapshot.guildName,
            channelName: snapshot.channelName,
            jumpUrl: snapshot.jumpUrl,
            key,
            input: snapshot.input,
            shownHash: snapshot.shownHash,
            state: 'pending',
            revision: 1,
            renderedRevision: 0,
            urn: null,
            url: null,
            announced: false,
            messageCreatedAt: snapshot.createdAt,
            editedAt: snapshot.editedAt,
            deletedAt: null,
            attempts: 0,
            nextAttemptAt: now,
            lastError: null,
            leaseOwner: null,
            leaseUntil: NO_LEASE,
            outbox: [],
            outboxCount: 0,
            deliveryDueAt: NO_LEASE,
            deliveryAttempts: 0,
            lastDeliveryError: null,
            deliveryLeaseOwner: null,
            deliveryLeaseUntil: NO_LEASE,
          },
        },
        { upsert: true },
      );
      return result.upsertedCount > 0;
    });
  }

  /** Takes in an edit when it changes what is shown; the image of the new revision is then owed. */
  recordEdit(snapshot: MessageSnapshot, now = new Date()): Promise<EditOutcome> {
    return this.exclusive(snapshot.messageId, async () => {
      const changed = await this.images.updateOne(
        { messageId: snapshot.messageId, state: { $in: LIVE }, shownHash: { $ne: snapshot.shownHash } },
        {
          $set: {
            input: snapshot.input,
            shownHash: snapshot.shownHash,
            guildName: snapshot.guildName,
            channelName: snapshot.channelName,
            jumpUrl: snapshot.jumpUrl,
            editedAt: snapshot.editedAt,
            state: 'pending',
            attempts: 0,
            nextAttemptAt: now,
            lastError: null,
          },
          $inc: { revision: 1 },
        },
      );
      if (changed.modifiedCount > 0) return 'changed';
      const existing = await this.find(snapshot.messageId);
      if (!existing) return 'unknown';
      return LIVE.includes(existing.state) ? 'unchanged' : 'gone';
    });
  }

  /** Marks a message deleted; its object then has to go. False when there is nothing (left) to delete. */
  recordDelete(messageId: string, now = new Date()): Promise<boolean> {
    return this.exclusive(messageId, async () => {
      const marked = await this.images.updateOne(
        { messageId, state: { $in: LIVE } },
        { $set: { state: 'deleting', deletedAt: now, attempts: 0, nextAttemptAt: now, lastError: null } },
      );
      return marked.modifiedCount > 0;
    });
  }

  find(messageId: string): Promise<MessageImageRecord | null> {
    return this.images.findOne({ messageId }).lean<MessageImageRecord>().exec();
  }

  /** Message ids whose render or delete is owed and due (a retry after a failure waits for its backoff). */
  async dueWork(now: Date, limit: number): Promise<string[]> {
    const due = await this.images
      .find({ state: { $in: OWED_WORK }, nextAttemptAt: { $lte: now }, leaseUntil: { $lte: now } }, { messageId: 1 })
      .sort({ nextAttemptAt: 1 })
      .limit(limit)
      .lean<{ messageId: string }[]>();
    return due.map((record) => record.messageId);
  }

  /** Takes the record for rendering or deleting, if work is due (not backing off) and nobody else holds it. */
  claimWork(messageId: string, owner: string, leaseMs: number, now = new Date()): Promise<MessageImageRecord | null> {
    return this.exclusive(messageId, () =>
      this.images
        .findOneAndUpdate(
          { messageId, state: { $in: OWED_WORK }, nextAttemptAt: { $lte: now }, leaseUntil: { $lte: now } },
          { $set: { leaseOwner: owner, leaseUntil: new Date(now.getTime() + leaseMs) } },
          { new: true },
        )
        .lean<MessageImageRecord>()
        .exec(),
    );
  }

  /**
   * The image of `claimed.revision` is in S3: record it and queue its callback, in one atomic update. Every image
   * written is announced, so when the record moved on meanwhile (edited again, deleted) the callback for this
   * image is still queued, and the record stays owed for the newer revision or the delete.
   */
  completeRender(claimed: MessageImageRecord, image: StoredImage, announce: boolean): Promise<RenderOutcome> {
    const event: BackendEventName = claimed.announced ? 'updated' : 'created';
    const callback = callbackOf(claimed, event, image, `discord:${claimed.messageId}:${event}:${claimed.revision}`);
    const owe = announce ? { $push: { outbox: callback }, $inc: { outboxCount: 1 } } : {};
    const recorded = {
      renderedRevision: claimed.revision,
      urn: image.urn,
      url: image.url ?? null,
      announced: claimed.announced || announce,
      attempts: 0,
      lastError: null,
      leaseOwner: null,
      leaseUntil: NO_LEASE,
    };
    return this.exclusive(claimed.messageId, async () => {
      const current = await this.images.updateOne(
        { _id: claimed._id, leaseOwner: claimed.leaseOwner, state: 'pending', revision: claimed.revision },
        { $set: { ...recorded, state: 'rendered' }, ...owe },
      );
      if (current.modifiedCount > 0) return 'current';
      const superseded = await this.images.updateOne({ _id: claimed._id, leaseOwner: claimed.leaseOwner }, { $set: recorded, ...owe });
      return superseded.modifiedCount > 0 ? 'superseded' : 'lost';
    });
  }

  /** The object is gone: the record is done, and the backend hears of it if it ever heard of the message. */
  completeDelete(claimed: MessageImageRecord, announce: boolean): Promise<boolean> {
    const done = { state: 'deleted', attempts: 0, lastError: null, leaseOwner: null, leaseUntil: NO_LEASE };
    const update =
      announce && claimed.announced
        ? {
            $set: done,
            $push: {
              outbox: callbackOf(claimed, 'deleted', { urn: claimed.urn, url: claimed.url ?? undefined }, `discord:${claimed.messageId}:deleted`),
            },
            $inc: { outboxCount: 1 },
          }
        : { $set: done };
    return this.exclusive(claimed.messageId, async () => {
      const result = await this.images.updateOne({ _id: claimed._id, leaseOwner: claimed.leaseOwner, state: 'deleting' }, update);
      return result.modifiedCount > 0;
    });
  }

  failWork(claimed: MessageImageRecord, reason: string, nextAttemptAt: Date): Promise<void> {
    return this.exclusive(claimed.messageId, async () => {
      await this.images.updateOne(
        { _id: claimed._id, leaseOwner: claimed.leaseOwner },
        { $set: { lastError: reason, nextAttemptAt, leaseOwner: null, leaseUntil: NO_LEASE }, $inc: { attempts: 1 } },
      );
    });
  }

  release(claimed: MessageImageRecord): Promise<void> {
    return this.exclusive(claimed.messageId, async () => {
      await this.images.updateOne({ _id: claimed._id, leaseOwner: claimed.leaseOwner }, { $set: { leaseOwner: null, leaseUntil: NO_LEASE } });
    });
  }

  /** Message ids with callbacks owed and due. */
  async dueDeliveries(now: Date, limit: number): Promise<string[]> {
    const due = await this.images
      .find({ outboxCount: { $gt: 0 }, deliveryDueAt: { $lte: now }, deliveryLeaseUntil: { $lte: now } }, { messageId: 1 })
      .sort({ deliveryDueAt: 1 })
      .limit(limit)
      .lean<{ messageId: string }[]>();
    return due.map((record) => record.messageId);
  }

  claimDelivery(messageId: string, owner: string, leaseMs: number, now = new Date()): Promise<MessageImageRecord | null> {
    return this.exclusive(messageId, () =>
      this.images
        .findOneAndUpdate(
          { messageId, outboxCount: { $gt: 0 }, deliveryDueAt: { $lte: now }, deliveryLeaseUntil: { $lte: now } },
          { $set: { deliveryLeaseOwner: owner, deliveryLeaseUntil: new Date(now.getTime() + leaseMs) } },
          { new: true },
        )
        .lean<MessageImageRecord>()
        .exec(),
    );
  }

  /**
   * The backend acknowledged the oldest callback: drop it. New callbacks are only ever appended, so the first one
   * is still the one that was sent.
   */
  delivered(claimed: MessageImageRecord, now = new Date()): Promise<void> {
    return this.exclusive(claimed.messageId, async () => {
      await this.images.updateOne(
        { _id: claimed._id, deliveryLeaseOwner: claimed.deliveryLeaseOwner },
        {
          $pop: { outbox: -1 },
          $inc: { outboxCount: -1 },
          $set: { deliveryAttempts: 0, lastDeliveryError: null, deliveryDueAt: now, deliveryLeaseOwner: null, deliveryLeaseUntil: NO_LEASE },
        },
      );
    });
  }

  deliveryFailed(claimed: MessageImageRecord, reason: string, dueAt: Date): Promise<void> {
    return this.exclusive(claimed.messageId, async () => {
      await this.images.updateOne(
        { _id: claimed._id, deliveryLeaseOwner: claimed.deliveryLeaseOwner },
        {
          $inc: { deliveryAttempts: 1 },
          $set: { lastDeliveryError: reason, deliveryDueAt: dueAt, deliveryLeaseOwner: null, deliveryLeaseUntil: NO_LEASE },
        },
      );
    });
  }

  /** How many messages have callbacks that failed at least `attempts` times in a row. */
  countFailingDeliveries(attempts: number): Promise<number> {
    return this.images.countDocuments({ outboxCount: { $gt: 0 }, deliveryAttempts: { $gte: attempts } }).exec();
  }

  /** Runs the writes of one record one at a time (see KeyedSerializer). */
  private exclusive<T>(messageId: string, write: () => Promise<T>): Promise<T> {
    return this.writing.run(messageId, write);
  }
}

function callbackOf(record: MessageImageRecord, event: BackendEventName, image: StoredImage, idempotencyKey: string): BackendCallback {
  return {
    event,
    idempotencyKey,
    guildId: record.guildId,
    channelId: record.channelId,
    messageId: record.messageId,
    authorId: record.authorId,
    guildName: record.guildName ?? null,
    channelName: record.channelName ?? null,
    jumpUrl: record.jumpUrl ?? messageLink(record),
    urn: image.urn,
    ...(image.url ? { url: image.url } : {}),
    createdAt: record.messageCreatedAt.toISOString(),
    editedAt: record.editedAt?.toISOString() ?? null,
    deletedAt: record.deletedAt?.toISOString() ?? null,
  };
}

/** Discord's message link, for records made before links were kept. */
function messageLink(record: Pick<MessageImageRecord, 'guildId' | 'channelId' | 'messageId'>): string {
  return `https://discord.com/channels/${record.guildId}/${record.channelId}/${record.messageId}`;
}
