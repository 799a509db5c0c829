import { getModelToken, MongooseModule } from '@nestjs/mongoose';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Model } from 'mongoose';
import { Notification, NOTIFICATION_MODELS } from '../../src/notify/notification.schema';
import { NotificationStore } from '../../src/notify/notification.store';
import { testMongoUri } from '../support/servers';

jest.setTimeout(120_000);

const HOUR = 60 * 60 * 1000;
const LEASE = 30_000;

/**
 * The guarantees the delivery worker builds on, checked against the real FerretDB: the unique index that makes
 * Idempotency-Key race-safe, and findOneAndUpdate leases that let exactly one replica send a notification.
 */
describe('NotificationStore on FerretDB', () => {
  let moduleRef: TestingModule;
  let store: NotificationStore;
  let notifications: Model<Notification>;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        MongooseModule.forRoot(testMongoUri(), { autoIndex: true }),
        MongooseModule.forFeature(NOTIFICATION_MODELS),
      ],
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

  it('lets exactly one of many workers claim a notification they all saw as free', async () => {
    const { notification } = await accept('100000000000000003', 'claim me');
    const claims = await Promise.all(Array.from({ length: 8 }, (_, index) => store.claim(notification, `worker-${index}`, LEASE)));
    const winners = claims.filter((claim) => claim !== null);
    expect(winners).toHaveLength(1);
    expect(await notifications.findById(notification._id).lean()).toMatchObject({ leaseOwner: winners[0]!.leaseOwner, claims: 1 });
  });

  it("hands a crashed worker's notification to another once the lease expires, and ignores the late one", async () => {
    const { notification: stale } = await accept('100000000000000004', 'orphan');
    const now = new Date();
    expect(await store.claim(stale, 'crashed', LEASE, now)).not.toBeNull();
    const leased = (await store.find(stale._id.toHexString()))!;
    expect(await store.claim(leased, 'survivor', LEASE, new Date(now.getTime() + LEASE - 1000))).toBeNull();

    const later = new Date(now.getTime() + LEASE + 1000);
    const taken = await store.claim(leased, 'survivor', LEASE, later);
    expect(taken).toMatchObject({ leaseOwner: 'survivor', claims: 2 });
    // A worker acting on a read from before both claims cannot take it either.
    expect(await store.claim(stale, 'sleepy', LEASE, later)).toBeNull();

    // The crashed worker comes back to life and records an outcome: it no longer owns the notification.
    await store.recordRetry(taken!, 'crashed', { message: 'late', at: new Date() }, new Date());
    await store.recordShown(taken!, 'survivor', taken!.revision, { messageId: '900000000000000001', sentAt: new Date() });
    expect(await notifications.findById(stale._id).lean()).toMatchObject({
      state: 'sent',
      pending: null,
      messageId: '900000000000000001',
      leaseOwner: null,
      lastError: null,
      attempts: 1,
    });
  });

  it("keeps a channel's queue in acceptance order: only the head is offered", async () => {
    const channelId = '100000000000000005';
    const ids: Notification['_id'][] = [];
    for (const content of ['one', 'two', 'three']) ids.push((await accept(channelId, content)).notification._id);
    expect((await store.headOf(channelId))?._id.equals(ids[0])).toBe(true);

    const head = await store.claim((await store.headOf(channelId))!, 'worker', LEASE);
    await store.recordRefused(head!, 'worker', { message: 'Discord 404 (code 10003): Unknown Channel', status: 404, code: 10003, at: new Date() });
    expect((await store.headOf(channelId))?._id.equals(ids[1])).toBe(true);
    expect(await store.channelsWithQueue()).toContain(channelId);
  });

  it('turns a PATCH or DELETE that arrives while the message is being sent into the next Discord call', async () => {
    const { notification: edited } = await accept('100000000000000006', 'v1');
    const sending = await store.claim(edited, 'worker', LEASE);
    expect(await store.reviseQueued(edited._id, { content: 'v2' })).toBe(true);
    await store.recordShown(sending!, 'worker', sending!.revision, { messageId: '900000000000000002', sentAt: new Date() });
    expect(await notifications.findById(edited._id).lean()).toMatchObject({ state: 'sent', pending: 'edit', sentRevision: 1, revision: 2 });

    const { notification: deleted } = await accept('100000000000000006', 'bye');
    const inFlight = await store.claim(deleted, 'worker', LEASE);
    expect(await store.cancelQueued(deleted._id)).toBe(false); // a worker holds it: cannot simply be dropped
    expect(await store.requestDelete(deleted._id)).toBe(true);
    await store.recordShown(inFlight!, 'worker', inFlight!.revision, { messageId: '900000000000000003', sentAt: new Date() });
    expect(await notifications.findById(deleted._id).lean()).toMatchObject({ state: 'sent', pending: 'delete' });
    const change = await store.claimDueChange('worker', LEASE);
    expect(change?.pending).toMatch(/^(edit|delete)$/);
  });
});
