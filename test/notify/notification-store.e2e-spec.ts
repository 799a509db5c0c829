import { getModelToken, MongooseModule } from '@nestjs/mongoose';
import { Test, type TestingModule } from '@nestjs/testing';
import { type Model, Types } from 'mongoose';
import { Notification, NOTIFICATION_MODELS } from '../../src/notify/notification.schema';
import { NotificationStore } from '../../src/notify/notification.store';
import { toView } from '../../src/notify/notify.service';
import { testMongoUri } from '../support/servers';

jest.setTimeout(120_000);

const HOUR = 60 * 60 * 1000;

/**
 * The guarantees notify builds on, checked against the real FerretDB: the unique index that makes Idempotency-Key
 * race-safe, and the split between what the client asked for and what Discord shows.
 */
describe('NotificationStore on FerretDB', () => {
  let moduleRef: TestingModule;
  let store: NotificationStore;
  let notifications: Model<Notification>;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MongooseModule.forRoot(testMongoUri(), { autoIndex: true }), MongooseModule.forFeature(NOTIFICATION_MODELS)],
      providers: [NotificationStore],
    }).compile();
    await moduleRef.init();
    store = moduleRef.get(NotificationStore);
    notifications = moduleRef.get(getModelToken(Notification.name));
  });

  afterAll(async () => {
    await moduleRef?.close();
  });

  const accept = (channelId: string, content: string, idempotencyKey?: string, now?: Date) =>
    store.accept({ channelId, message: { content }, idempotencyKey }, now);

  it('stores one notification for ten concurrent requests with the same Idempotency-Key', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => accept('100000000000000001', 'race', 'race-key')));
    expect(new Set(results.map((result) => result.notification._id.toHexString())).size).toBe(1);
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    expect(await notifications.countDocuments({ channelId: '100000000000000001' })).toBe(1);
  });

  it('honours an Idempotency-Key for 24 hours, then takes it as new', async () => {
    const t0 = new Date('2030-01-01T00:00:00Z');
    const first = await accept('100000000000000002', 'daily', 'daily-key', t0);
    const sameDay = await accept('100000000000000002', 'daily', 'daily-key', new Date(t0.getTime() + 23 * HOUR));
    const nextDay = await accept('100000000000000002', 'daily', 'daily-key', new Date(t0.getTime() + 25 * HOUR));
    expect(sameDay).toMatchObject({ replayed: true });
    expect(sameDay.notification._id.equals(first.notification._id)).toBe(true);
    expect(nextDay.replayed).toBe(false);
    expect(nextDay.notification._id.equals(first.notification._id)).toBe(false);
    // The first notification keeps existing; only its key was retired.
    expect(await notifications.countDocuments({ channelId: '100000000000000002' })).toBe(2);
  });

  // Claims, leases, a crashed worker's takeover and a channel's order are the outbox's now: src/outbox/outbox.store.spec.ts
  // checks them on FerretDB (exclusive claim, expiry, a stale holder recording nothing, head by number, parked head).

  it('turns a PATCH or DELETE that arrives while the message is being sent into the next Discord call', async () => {
    const { notification: edited } = await accept('100000000000000006', 'v1');
    // The create job read revision 1 and is calling Discord when the PATCH lands.
    expect(await store.revise(edited._id, { content: 'v2' })).toBe(true);
    await store.recordDelivery(edited._id, { state: 'sent', messageId: '900000000000000002', sentRevision: edited.revision, attempts: 1 });
    const afterEdit = toView((await store.find(edited._id))!, await store.findDelivery(edited._id));
    expect(afterEdit).toMatchObject({ state: 'sent', pending: 'edit', messageId: '900000000000000002' });

    const { notification: deleted } = await accept('100000000000000006', 'bye');
    await store.requestDelete(deleted._id);
    expect(toView((await store.find(deleted._id))!, await store.findDelivery(deleted._id))).toMatchObject({ state: 'deleted', pending: null });
    // …unless the create was already on its way: then the message is deleted right after it is sent.
    await store.recordDelivery(deleted._id, { state: 'sent', messageId: '900000000000000003', sentRevision: deleted.revision, attempts: 1 });
    expect(toView((await store.find(deleted._id))!, await store.findDelivery(deleted._id))).toMatchObject({ state: 'sent', pending: 'delete' });
    expect(await store.revise(deleted._id, { content: 'too late' })).toBe(false);
  });

  it('finds its own first write when storing again under a caller-chosen id (no Idempotency-Key): one notification', async () => {
    const id = new Types.ObjectId();
    const first = await store.accept({ channelId: '100000000000000091', message: { content: 'deploy done' }, id });
    const again = await store.accept({ channelId: '100000000000000091', message: { content: 'deploy done' }, id });
    expect(again).toMatchObject({ replayed: false });
    expect(again.notification._id.toHexString()).toBe(first.notification._id.toHexString());
    expect(await notifications.countDocuments({ channelId: '100000000000000091' })).toBe(1);
  });

  it('with an Idempotency-Key: its own first write under the id is not a replay, another request under the key is', async () => {
    const id = new Types.ObjectId();
    const input = {
      channelId: '100000000000000092',
      message: { content: 'deploy done' },
      idempotencyKey: `deploy-${id.toHexString()}`,
      requestFingerprint: 'f1',
    };
    await store.accept({ ...input, id });
    expect(await store.accept({ ...input, id })).toMatchObject({ replayed: false });
    expect(await store.accept({ ...input, id: new Types.ObjectId() })).toMatchObject({ replayed: true, sameRequest: true });
    expect(await notifications.countDocuments({ channelId: '100000000000000092' })).toBe(1);
  });
});
