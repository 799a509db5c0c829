import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { Model, Types } from 'mongoose';
import { isDuplicateKey } from '../common/duplicate-key';
import type { NotificationMessage } from './notification-message';
import { Notification, NotificationDelivery } from './notification.schema';

export type NotificationRecord = Notification;
export type DeliveryRecord = NotificationDelivery;

const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface NewNotification {
  channelId: string;
  message: NotificationMessage;
  idempotencyKey?: string;
  /** What the key stands for (see Notification.requestFingerprint); kept only with a key. */
  requestFingerprint?: string;
  /**
   * The id to store it under, chosen by the caller so that storing again after a lost answer (MongoDB went away
   * mid-write) finds the first write instead of making a second notification.
   */
  id?: Types.ObjectId;
}

/** What storing a request produced: a new notification, the first one under its key, or a key used for another request. */
export type AcceptOutcome =
  { notification: NotificationRecord; replayed: false } | { notification: NotificationRecord; replayed: true; sameRequest: boolean };

/**
 * Every MongoDB read and write of notifications. The client's side (`notifications`) is written only by the API;
 * the Discord side (`notification_deliveries`) only by the notification's outbox jobs, which run one at a time.
 */
@Injectable()
export class NotificationStore implements OnModuleInit {
  constructor(
    @InjectModel(Notification.name) private readonly notifications: Model<Notification>,
    @InjectModel(NotificationDelivery.name) private readonly deliveries: Model<NotificationDelivery>,
  ) {}

  /** Idempotency depends on the unique index, so it must exist before the first request is accepted. */
  async onModuleInit(): Promise<void> {
    await this.notifications.createIndexes();
  }

  /**
   * Stores a new notification, or returns the one already stored under the same Idempotency-Key within 24 hours
   * (with whether it was stored for the same request). Two concurrent requests with one key race on the unique
   * index: one inserts, the other reads it, fingerprint included, since both are written by the one insert.
   */
  async accept(input: NewNotification, now = new Date()): Promise<AcceptOutcome> {
    for (let round = 0; round < 5; round += 1) {
      const _id = round === 0 && input.id ? input.id : new Types.ObjectId();
      const idempotencyKey = input.idempotencyKey === undefined ? `auto:${_id.toHexString()}` : `key:${input.idempotencyKey}`;
      try {
        const created = await this.notifications.create({
          _id,
          channelId: input.channelId,
          message: input.message,
          revision: new Types.ObjectId().toHexString(),
          deleteRequested: false,
          idempotencyKey,
          idempotencyExpiresAt: input.idempotencyKey === undefined ? null : new Date(now.getTime() + IDEMPOTENCY_WINDOW_MS),
          requestFingerprint: input.idempotencyKey === undefined ? null : (input.requestFingerprint ?? null),
        });
        return { notification: created.toObject(), replayed: false };
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // Stored by an earlier try of this same request whose answer was lost.
        const mine = input.id && round === 0 ? await this.notifications.findById(_id).lean<NotificationRecord>() : null;
        if (mine) return { notification: mine, replayed: false };
        if (input.idempotencyKey === undefined) throw error;
      }
      const first = await this.notifications.findOne({ idempotencyKey }).lean<NotificationRecord>();
      if (first && first.idempotencyExpiresAt && first.idempotencyExpiresAt > now) {
        const sameRequest = !first.requestFingerprint || first.requestFingerprint === input.requestFingerprint;
        return { notification: first, replayed: true, sameRequest };
      }
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

  async find(id: string | Types.ObjectId): Promise<NotificationRecord | null> {
    if (typeof id === 'string' && !/^[0-9a-f]{24}$/i.test(id)) return null;
    return this.notifications.findById(id).lean<NotificationRecord>();
  }

  findDelivery(id: Types.ObjectId): Promise<DeliveryRecord | null> {
    return this.deliveries.findById(id).lean<DeliveryRecord>().exec();
  }

  /** Replaces what the notification shows; false once a delete was asked for. */
  async revise(id: Types.ObjectId, message: NotificationMessage): Promise<boolean> {
    const result = await this.notifications.updateOne(
      { _id: id, deleteRequested: false },
      { $set: { message, revision: new Types.ObjectId().toHexString() } },
    );
    return result.matchedCount > 0;
  }

  async requestDelete(id: Types.ObjectId): Promise<void> {
    await this.notifications.updateOne({ _id: id }, { $set: { deleteRequested: true } });
  }

  /** The delivery side, written by the notification's outbox job (one at a time). */
  async recordDelivery(id: Types.ObjectId, fields: Partial<Omit<DeliveryRecord, '_id' | 'createdAt' | 'updatedAt'>>): Promise<void> {
    await this.deliveries.updateOne({ _id: id }, { $set: fields }, { upsert: true });
  }
}
