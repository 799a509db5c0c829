import mongoose, { Types } from 'mongoose';
import { DependencyUnavailableError } from '../common/errors';
import type { AppConfig } from '../config/config';
import type { ReadinessService } from '../health/readiness.service';
import type { Outbox } from '../outbox/outbox';
import type { NotificationSender } from './notification-sender';
import type { NewNotification, NotificationRecord, NotificationStore } from './notification.store';
import { NotifyService } from './notify.service';

/** A write whose answer MongoDB's connection lost: it may have been applied. */
const connectionReset = () => new mongoose.mongo.MongoNetworkError('connection 3 to 127.0.0.1:27017 closed');

function record(input: NewNotification): NotificationRecord {
  return {
    _id: input.id ?? new Types.ObjectId(),
    channelId: input.channelId,
    message: input.message,
    revision: 'r1',
    deleteRequested: false,
    idempotencyKey: `auto:${String(input.id)}`,
    idempotencyExpiresAt: null,
    requestFingerprint: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  };
}

/** MongoDB as the store sees it: writes land, and the answer to the first `lost` of them is lost on the way back. */
function setUp({ lostAccepts = 0, lostEnqueues = 0, deliveryReadsFail = false } = {}) {
  const stored = new Map<string, NotificationRecord>();
  const jobs = new Map<string, { _id: Types.ObjectId; seq: number }>();
  let accepts = 0;
  let enqueues = 0;
  const store = {
    accept: async (input: NewNotification) => {
      accepts += 1;
      const id = String(input.id);
      const mine = stored.get(id);
      if (!mine) stored.set(id, record(input));
      if (accepts <= lostAccepts) throw connectionReset();
      return { notification: stored.get(id)!, replayed: false };
    },
    findDelivery: async () => {
      if (deliveryReadsFail) throw connectionReset();
      return null;
    },
  } as unknown as NotificationStore;
  const sender = {
    enqueueCreate: async (notification: NotificationRecord) => {
      enqueues += 1;
      const key = notification._id.toHexString();
      if (!jobs.has(key)) jobs.set(key, { _id: new Types.ObjectId(), seq: jobs.size + 1 });
      if (enqueues <= lostEnqueues) throw connectionReset();
      return jobs.get(key)!;
    },
  } as unknown as NotificationSender;
  const readiness = { onStopping: () => undefined } as unknown as ReadinessService;
  const config = { notify: { defaultChannelId: '123456789012345678', waitTimeoutMs: 1000 } } as unknown as AppConfig;
  const service = new NotifyService(store, sender, {} as Outbox, config, readiness);
  return { service, stored, jobs };
}

describe('NotifyService when MongoDB goes away while a notification is stored', () => {
  it('stores again under the same id when the answer to the insert was lost: one notification, accepted', async () => {
    const { service, stored, jobs } = setUp({ lostAccepts: 1 });
    const { notification } = await service.accept({ message: 'deploy done' });
    expect(stored.size).toBe(1);
    expect(jobs.size).toBe(1);
    expect(notification.id).toBe([...stored.keys()][0]);
  });

  it('enqueues again when the answer to the job insert was lost: one job', async () => {
    const { service, jobs } = setUp({ lostEnqueues: 1 });
    await service.accept({ message: 'deploy done' });
    expect(jobs.size).toBe(1);
  });

  it('answers 503 naming the id it may be stored under when MongoDB stays away', async () => {
    const { service, stored } = setUp({ lostAccepts: 2 });
    const error = await service.accept({ message: 'deploy done' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    const id = [...stored.keys()][0];
    expect((error as DependencyUnavailableError).details).toEqual({ id });
    expect((error as Error).message).toContain(`GET /notify/${id}`);
  });

  it('does not try again when no server was found: nothing was written, and the usual 503 (try again) holds', async () => {
    const { service, stored } = setUp({ lostAccepts: 0 });
    const unreachable = new mongoose.mongo.MongoServerSelectionError('Server selection timed out after 2000 ms', {} as never);
    let calls = 0;
    const store = (service as unknown as { store: { accept: () => Promise<unknown> } }).store;
    store.accept = () => {
      calls += 1;
      return Promise.reject(unreachable);
    };
    await expect(service.accept({ message: 'deploy done' })).rejects.toBe(unreachable);
    expect(calls).toBe(1);
    expect(stored.size).toBe(0);
  });

  it('answers 202 once the job is stored, even if MongoDB goes away before the answer is built', async () => {
    const { service, jobs } = setUp({ deliveryReadsFail: true });
    const { notification } = await service.accept({ message: 'deploy done' });
    expect(jobs.size).toBe(1);
    expect(notification.state).toBe('queued');
  });
});
