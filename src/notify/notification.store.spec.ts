import { getModelToken, MongooseModule } from '@nestjs/mongoose';
import { Test, type TestingModule } from '@nestjs/testing';
import { Model, Types } from 'mongoose';
import { testMongoUri } from '../../test/support/servers';
import { Notification, NOTIFICATION_MODELS } from './notification.schema';
import { NotificationStore } from './notification.store';

jest.setTimeout(120_000);

/** Storing a notification again after MongoDB lost the answer to the first write, on the real FerretDB v1. */
describe('NotificationStore.accept under a caller-chosen id', () => {
  let moduleRef: TestingModule;
  let store: NotificationStore;
  let notifications: Model<Notification>;
  const message = { content: 'deploy done' };

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

  it('finds its own first write instead of storing a second notification (no Idempotency-Key)', async () => {
    const id = new Types.ObjectId();
    const first = await store.accept({ channelId: '1', message, id });
    const again = await store.accept({ channelId: '1', message, id });
    expect(again).toMatchObject({ replayed: false });
    expect(again.notification._id.toHexString()).toBe(first.notification._id.toHexString());
    expect(await notifications.countDocuments({ channelId: '1' })).toBe(1);
  });

  it('with an Idempotency-Key: its own first write is not a replay, another request under the key is', async () => {
    const id = new Types.ObjectId();
    const input = { channelId: '2', message, idempotencyKey: `deploy-${id.toHexString()}`, requestFingerprint: 'f1' };
    await store.accept({ ...input, id });
    expect(await store.accept({ ...input, id })).toMatchObject({ replayed: false });
    expect(await store.accept({ ...input, id: new Types.ObjectId() })).toMatchObject({ replayed: true, sameRequest: true });
    expect(await notifications.countDocuments({ channelId: '2' })).toBe(1);
  });
});
