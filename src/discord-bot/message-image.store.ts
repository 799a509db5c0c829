import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { BackendCallback } from '../backend/backend-callback';
import { isDuplicateKey } from '../common/duplicate-key';
import { MessageImage } from './message-image.schema';

export type MessageImageRecord = MessageImage;
export type NewMessageImage = Omit<MessageImage, '_id'>;

/** Records from before `_id` was the message id have an ObjectId there. */
const LEGACY = { _id: { $type: 'objectId' as const } };
/** The unique index older versions kept on `messageId`; `_id` is unique now, and a copy must sit beside its original. */
const LEGACY_INDEX = 'messageId_1';
const MOVE_BATCH = 100;
/** While a version that writes ObjectId records may still run beside this one (a rolling upgrade), look again this often. */
const LEGACY_LOOK_MS = 10 * 60_000;

/**
 * Every MongoDB read and write of message records, each by `_id` (the message id). A record is written only by the
 * running job of its message's outbox lane, so plain reads and writes suffice on MongoDB 7 and FerretDB v1 alike
 * (see docs/adr/0004).
 *
 * Records written by versions before this one are keyed by an ObjectId. Each is moved once: copied under its message
 * id (an insert; a copy that exists already is left alone), then the original deleted; a stop between the two leaves
 * both, and the next move deletes the original. While any may remain, a record not found by `_id` is looked for by
 * `messageId` and moved on the spot, so no message loses its history; once a look finds none, misses cost one read.
 */
@Injectable()
export class MessageImageStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(MessageImageStore.name);
  /** Until the first move finds none left (start-up does not wait for it; a miss meanwhile also looks by messageId). */
  private legacyMayRemain = true;
  private lookTimer: NodeJS.Timeout | undefined;

  constructor(@InjectModel(MessageImage.name) private readonly images: Model<MessageImage>) {}

  async onModuleInit(): Promise<void> {
    await this.images.collection.dropIndex(LEGACY_INDEX).catch(() => undefined);
    await this.images.createIndexes();
  }

  onModuleDestroy(): void {
    clearTimeout(this.lookTimer);
  }

  /**
   * Moves every record an older version wrote (see the class), in batches; afterwards looks again every 10 minutes,
   * for records a replica of an older version writes during a rolling upgrade. Answers how many it moved now.
   */
  async moveLegacyRecords(): Promise<number> {
    let moved = 0;
    for (;;) {
      const batch = await this.images.collection.find<MessageImage & { _id: unknown }>(LEGACY).limit(MOVE_BATCH).toArray();
      for (const record of batch) await this.moveOne(record);
      moved += batch.length;
      if (batch.length < MOVE_BATCH) break;
    }
    this.legacyMayRemain = false;
    clearTimeout(this.lookTimer);
    this.lookTimer = setTimeout(() => {
      this.moveLegacyRecords()
        .then((count) => count && this.logger.log({ records: count }, 'Moved records an older version wrote to their message ids'))
        .catch((error: unknown) => {
          this.legacyMayRemain = true;
          this.logger.warn({ err: error }, 'Could not look for records an older version wrote; trying again in 10 minutes');
        });
    }, LEGACY_LOOK_MS);
    this.lookTimer.unref();
    return moved;
  }

  /**
   * Callbacks that records written before the outbox kept in an `outbox` array of their own (Herald up to the bot's
   * move to the outbox): handed to `owe` (keyed by idempotency key, so a repeat after a crash stores nothing new),
   * then removed from the record.
   */
  async adoptOwedCallbacks(owe: (callback: BackendCallback) => Promise<void>): Promise<number> {
    const legacy = await this.images.collection
      .find<{ _id: unknown; outbox: BackendCallback[] }>({ outboxCount: { $gt: 0 } }, { projection: { outbox: 1 } })
      .toArray();
    for (const record of legacy) {
      for (const callback of record.outbox) await owe(callback);
      await this.images.collection.updateOne({ _id: record._id as never }, { $unset: { outbox: '', outboxCount: '' } });
    }
    return legacy.length;
  }

  async find(messageId: string): Promise<MessageImageRecord | null> {
    const record = await this.images.findById(messageId).lean<MessageImageRecord>().exec();
    if (record || !this.legacyMayRemain) return record;
    const legacy = await this.images.collection.findOne<MessageImage & { _id: unknown }>({ ...LEGACY, messageId });
    if (!legacy) return null;
    await this.moveOne(legacy);
    return this.images.findById(messageId).lean<MessageImageRecord>().exec();
  }

  /**
   * The message's record, stored as given if it has none: one write where the message is new (a gateway create),
   * instead of a read that finds nothing, then the write. `created` says whether this call stored it.
   */
  async findOrCreate(record: NewMessageImage): Promise<{ record: MessageImageRecord; created: boolean }> {
    if (this.legacyMayRemain) {
      const found = await this.find(record.messageId);
      if (found) return { record: found, created: false };
    }
    const written = await this.images.updateOne({ _id: record.messageId }, { $setOnInsert: record }, { upsert: true });
    if (written.upsertedCount === 1) return { record: { ...record, _id: record.messageId }, created: true };
    return { record: (await this.images.findById(record.messageId).lean<MessageImageRecord>().exec()) as MessageImageRecord, created: false };
  }

  async update(messageId: string, fields: Partial<NewMessageImage>): Promise<void> {
    await this.images.updateOne({ _id: messageId }, { $set: fields });
  }

  private async moveOne(record: MessageImage & { _id: unknown }): Promise<void> {
    const { _id: legacyId, ...fields } = record;
    try {
      await this.images.collection.insertOne({ ...fields, _id: record.messageId } as never);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    await this.images.collection.deleteOne({ _id: legacyId as never });
  }
}
