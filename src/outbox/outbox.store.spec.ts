import { getModelToken, MongooseModule } from '@nestjs/mongoose';
import { Test, type TestingModule } from '@nestjs/testing';
import { Model, Types } from 'mongoose';
import { testMongoUri } from '../../test/support/servers';
import { OutboxClaim, OutboxJob, OutboxLaneMark, OUTBOX_MODELS } from './outbox.schema';
import { OutboxStore } from './outbox.store';

jest.setTimeout(120_000);

const LEASE = 30_000;
let lanes = 0;
const newLane = () => `spec:lane:${Date.now()}:${(lanes += 1)}`;

/**
 * The outbox's order and claim rules against the real FerretDB v1, where findOneAndUpdate and $inc are a read then a
 * write: only unique inserts decide, so everything below must hold there as on MongoDB 7.
 */
describe('OutboxStore on FerretDB', () => {
  let moduleRef: TestingModule;
  let store: OutboxStore;
  let jobs: Model<OutboxJob>;
  let marks: Model<OutboxLaneMark>;
  let claims: Model<OutboxClaim>;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MongooseModule.forRoot(testMongoUri(), { autoIndex: true }), MongooseModule.forFeature(OUTBOX_MODELS)],
      providers: [OutboxStore],
    }).compile();
    await moduleRef.init();
    store = moduleRef.get(OutboxStore);
    jobs = moduleRef.get(getModelToken(OutboxJob.name));
    marks = moduleRef.get(getModelToken(OutboxLaneMark.name));
    claims = moduleRef.get(getModelToken(OutboxClaim.name));
  });

  afterAll(async () => {
    await moduleRef?.close();
  });

  const enqueue = (lane: string, payload: unknown = {}, key?: string) => store.enqueue({ queue: 'spec', lane, payload, key });

  it('gives 40 concurrent enqueues into one lane the numbers 1..40, each once', async () => {
    const lane = newLane();
    const stored = await Promise.all(Array.from({ length: 40 }, (_, index) => enqueue(lane, { index })));
    expect(stored.map((job) => job.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));
    expect(await jobs.countDocuments({ lane })).toBe(40);
  });

  it('numbers one-after-another enqueues in acceptance order, even when the tail hint is lost or stale', async () => {
    const lane = newLane();
    const first = await enqueue(lane);
    const second = await enqueue(lane);
    await marks.deleteOne({ _id: `tail:${lane}` });
    const third = await enqueue(lane);
    await marks.updateOne({ _id: `tail:${lane}` }, { $set: { value: 1 } });
    const fourth = await enqueue(lane);
    expect([first.seq, second.seq, third.seq, fourth.seq]).toEqual([1, 2, 3, 4]);
  });

  it('stores one job for ten concurrent enqueues with the same key', async () => {
    const lane = newLane();
    const stored = await Promise.all(Array.from({ length: 10 }, () => enqueue(lane, {}, `same-key:${lane}`)));
    expect(new Set(stored.map((job) => job._id.toHexString())).size).toBe(1);
    expect(await jobs.countDocuments({ lane })).toBe(1);
  });

  it('lets exactly one of twelve concurrent claims on a job win', async () => {
    const job = await enqueue(newLane());
    const won = await Promise.all(Array.from({ length: 12 }, (_, index) => store.claim(job._id, `worker-${index}`, LEASE)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await claims.countDocuments({ jobId: job._id })).toBe(1);
  });

  it('refuses a claim while one is live, and takes the next number once it expired or was released', async () => {
    const job = await enqueue(newLane());
    const t0 = new Date('2030-01-01T00:00:00Z');
    const first = await store.claim(job._id, 'a', LEASE, t0);
    expect(first?.number).toBe(1);
    expect(await store.claim(job._id, 'b', LEASE, new Date(t0.getTime() + LEASE - 1))).toBeNull();
    // The holder died without a word (or the database went away before it could record anything): the lease runs out.
    const second = await store.claim(job._id, 'b', LEASE, new Date(t0.getTime() + LEASE + 1));
    expect(second).toMatchObject({ number: 2, owner: 'b' });
    expect(await store.stillHolds(first!)).toBe(false);
    expect(await store.stillHolds(second!)).toBe(true);
    await store.release(second!);
    expect(await store.stillHolds(second!)).toBe(false);
    expect((await store.claim(job._id, 'c', LEASE, new Date(t0.getTime() + LEASE + 2)))?.number).toBe(3);
  });

  it('finds a lane head by its number, walks past finished jobs, and heals a head that was moved back', async () => {
    const lane = newLane();
    const [a, b, c] = [await enqueue(lane), await enqueue(lane), await enqueue(lane)];
    expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { seq: 1 } });

    const claimA = (await store.claim(a._id, 'w', LEASE))!;
    await store.recordDone(claimA, { messageId: '1' });
    // The worker stops here (no release, no head move): the next look still proceeds.
    expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { seq: 2 } });

    const claimB = (await store.claim(b._id, 'w', LEASE))!;
    await store.recordParked(claimB, 'refused');
    await store.release(claimB);
    await store.advanceHead(lane, 2);
    await store.advanceHead(lane, 2); // repeated: harmless
    expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { seq: 3, _id: c._id } });

    // A stale write puts the head back at 1: the walk moves it on over the finished jobs.
    await marks.updateOne({ _id: `head:${lane}` }, { $set: { value: 1 } });
    expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { seq: 3 } });
    expect((await marks.findById(`head:${lane}`).lean())?.value).toBe(3);
  });

  it('keeps a job that is backing off at the head of its lane, not due until its time', async () => {
    const lane = newLane();
    const first = await enqueue(lane);
    await enqueue(lane);
    const claim = (await store.claim(first._id, 'w', LEASE))!;
    const retryAt = new Date(Date.now() + 60_000);
    await store.recordRetry(claim, 'Discord 502', retryAt);
    await store.release(claim);
    expect(await store.headOf(lane)).toMatchObject({ kind: 'waiting', job: { seq: 1, attempts: 1, lastError: 'Discord 502' } });
    expect(await store.headOf(lane, new Date(retryAt.getTime() + 1))).toMatchObject({ kind: 'due', job: { seq: 1 } });
  });

  it('sends a parked job again at the end of its lane, once for two retries', async () => {
    const lane = newLane();
    const job = await enqueue(lane, { text: 'again' });
    const claim = (await store.claim(job._id, 'w', LEASE))!;
    await store.recordParked(claim, 'Missing Access');
    const parked = (await store.find(job._id))!;
    expect((await store.parked('spec')).map((each) => each._id.toHexString())).toContain(job._id.toHexString());

    const [again, twice] = await Promise.all([store.retryParked(parked), store.retryParked(parked)]);
    expect(again._id.equals(twice._id)).toBe(true);
    expect(again).toMatchObject({ lane, seq: 2, state: 'queued', payload: { text: 'again' } });
    expect(await store.find(job._id)).toMatchObject({ state: 'retried', retriedAs: again._id });
  });

  it('lists due lanes of the asked queues only', async () => {
    const lane = newLane();
    await store.enqueue({ queue: 'spec-other', lane, payload: {} });
    expect(await store.lanesWithDueWork(['spec-other'])).toContain(lane);
    expect(await store.lanesWithDueWork(['spec-none'])).not.toContain(lane);
    expect(await store.lanesWithDueWork([])).toEqual([]);
  });

  it('answers null for an id that is not an ObjectId', async () => {
    expect(await store.find('not-an-id')).toBeNull();
    expect(await store.find(new Types.ObjectId())).toBeNull();
  });
});
