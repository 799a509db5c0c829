import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Collection } from 'mongodb';
import type { Model } from 'mongoose';
import type { BackendCallback } from '../backend/backend-callback';
import { driverCollection, KEEP_UNDEFINED_OUT } from '../common/driver-collection';
import { LegacyRecordMover } from '../common/legacy-records';
import { MessageImage } from './message-image.schema';

export type MessageImageRecord = MessageImage;
export type NewMessageImage = Omit<MessageImage, '_id'>;

/**
 * Every MongoDB read and write of message records, each by `_id` (the message id). A record is written only by the
 * running job of its message's outbox lane, so plain reads and writes suffice on MongoDB 7 and FerretDB v1 alike
 * (see docs/adr/0004).
 *
 * Records written by versions before this one are keyed by an ObjectId; `LegacyRecordMover` moves each under its
 * message id. While any may remain, a record not found by `_id` is looked for by `messageId` and moved on the spot, so
 * no message loses its history; once a look finds none, misses cost one read.
 */
@Injectable()
export class MessageImageStore implements OnModuleInit, OnModuleDestroy {
  private readonly legacy: LegacyRecordMover<MessageImage>;

  constructor(@InjectModel(MessageImage.name) private readonly images: Model<MessageImage>) {
    this.legacy = new LegacyRecordMover(
      () => this.images.collection,
      (record) => record.messageId,
      'discord_message_images',
      'messageId_1', // older versions' unique index on messageId
    );
  }

  async onModuleInit(): Promise<void> {
    await this.legacy.dropLegacyIndex();
    await this.images.createIndexes();
  }

  onModuleDestroy(): void {
    this.legacy.stop();
  }

  // A message's job reads and writes its record by `_id` through the driver, as the outbox's steps do: Mongoose's
  // query machinery cost Herald ~0.9 ms of CPU a message in a bench profile of the bot's burst (2026-11-30). The model
  // keeps the schema, the indexes and the catch-up's reads; the schema's timestamps are written here as Mongoose did.
  private get rows(): Collection<MessageImage> {
    return driverCollection(this.images);
  }

  /** Moves every record an older version wrote (see the class), saying so; afterwards looks again every 10 minutes. */
  moveLegacyRecords(): Promise<void> {
    return this.legacy.look();
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

  find(messageId: string): Promise<MessageImageRecord | null> {
    return this.legacy.find(() => this.rows.findOne({ _id: messageId }), { messageId });
  }

  /**
   * The message's record, stored as given if it has none: one write where the message is new (a gateway create),
   * instead of a read that finds nothing, then the write. `created` says whether this call stored it.
   */
  async findOrCreate(record: NewMessageImage): Promise<{ record: MessageImageRecord; created: boolean }> {
    if (this.legacy.mayRemain) {
      const found = await this.find(record.messageId);
      if (found) return { record: found, created: false };
    }
    const now = new Date();
    const written = await this.rows.updateOne(
      { _id: record.messageId },
      { $setOnInsert: { ...record, createdAt: now, updatedAt: now } },
      { upsert: true, ...KEEP_UNDEFINED_OUT },
    );
    if (written.upsertedCount === 1) return { record: { ...record, _id: record.messageId }, created: true };
    return { record: (await this.rows.findOne({ _id: record.messageId })) as MessageImageRecord, created: false };
  }

  /**
   * The id of the channel's latest message that has a record, or null when none has: where catching up on the channel
   * starts (see MessageCatchUp). By when it was posted, then by id (messages of one millisecond; their ids have the
   * same length, so they compare as strings), on the index that holds both.
   */
  async newestIn(channelId: string): Promise<string | null> {
    const newest = await this.images
      .findOne({ channelId }, { messageId: 1 })
      .sort({ messageCreatedAt: -1, _id: -1 })
      .lean<Pick<MessageImage, 'messageId'>>()
      .exec();
    return newest?.messageId ?? null;
  }

  /**
   * The records of a channel's messages posted between two times (inclusive) that still show an image or are being
   * drawn: what a look back over the channel's latest messages compares with (MessageCatchUp).
   */
  async shownBetween(channelId: string, from: Date, to: Date): Promise<Pick<MessageImageRecord, 'messageId' | 'editedAt'>[]> {
    return this.images
      .find({ channelId, messageCreatedAt: { $gte: from, $lte: to }, state: { $in: ['pending', 'rendered'] } }, { messageId: 1, editedAt: 1 })
      .lean<Pick<MessageImageRecord, 'messageId' | 'editedAt'>[]>()
      .exec();
  }

  async update(messageId: string, fields: Partial<NewMessageImage>): Promise<void> {
    await this.rows.updateOne({ _id: messageId }, { $set: { ...fields, updatedAt: new Date() } }, KEEP_UNDEFINED_OUT);
  }
}
