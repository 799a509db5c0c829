import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { BackendCallback } from '../backend/backend-callback';
import { MessageImage } from './message-image.schema';

export type MessageImageRecord = MessageImage;
export type NewMessageImage = Omit<MessageImage, '_id'>;

/**
 * Every MongoDB read and write of message records. A record is written only by the running job of its message's
 * outbox lane, so plain reads and writes suffice on MongoDB 7 and FerretDB v1 alike (see docs/adr/0004).
 */
@Injectable()
export class MessageImageStore implements OnModuleInit {
  constructor(@InjectModel(MessageImage.name) private readonly images: Model<MessageImage>) {}

  async onModuleInit(): Promise<void> {
    await this.images.createIndexes();
  }

  /**
   * Callbacks that records written before the outbox kept in an `outbox` array of their own (Herald up to the bot's
   * move to the outbox): handed to `owe` (keyed by idempotency key, so a repeat after a crash stores nothing new),
   * then removed from the record.
   */
  async adoptOwedCallbacks(owe: (callback: BackendCallback) => Promise<void>): Promise<number> {
    const legacy = await this.images.collection
      .find<{ messageId: string; outbox: BackendCallback[] }>({ outboxCount: { $gt: 0 } }, { projection: { messageId: 1, outbox: 1 } })
      .toArray();
    for (const record of legacy) {
      for (const callback of record.outbox) await owe(callback);
      await this.images.collection.updateOne({ messageId: record.messageId }, { $unset: { outbox: '', outboxCount: '' } });
    }
    return legacy.length;
  }

  find(messageId: string): Promise<MessageImageRecord | null> {
    return this.images.findOne({ messageId }).lean<MessageImageRecord>().exec();
  }

  /** The first record of a message; answers the stored one if it exists already. */
  async create(record: NewMessageImage): Promise<MessageImageRecord> {
    await this.images.updateOne({ messageId: record.messageId }, { $setOnInsert: record }, { upsert: true });
    return (await this.find(record.messageId)) as MessageImageRecord;
  }

  async update(messageId: string, fields: Partial<NewMessageImage>): Promise<void> {
    await this.images.updateOne({ messageId }, { $set: fields });
  }
}
