import { getConnectionToken, getModelToken, MongooseModule } from '@nestjs/mongoose';
import { Test, type TestingModule } from '@nestjs/testing';
import type { CommandStartedEvent, Document } from 'mongodb';
import { Connection, Model, Types } from 'mongoose';
import { testMongoUri } from '../../test/support/servers';
import { OutboxClaim, OutboxJob, OutboxKey, OutboxLaneMark, OUTBOX_MODELS } from './outbox.schema';
import { jobIdAt, LANE_SWEEP_GRACE_MS, OutboxStore } from './outbox.store';

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
  let keys: Model<OutboxKey>;
  let connection: Connection;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MongooseModule.forRoot(testMongoUri(), { autoIndex: true, monitorCommands: true }), MongooseModule.forFeature(OUTBOX_MODELS)],
      providers: [OutboxStore],
    }).compile();
    await moduleRef.init();
    store = moduleRef.get(OutboxStore);
    jobs = moduleRef.get(getModelToken(OutboxJob.name));
    marks = moduleRef.get(getModelToken(OutboxLaneMark.name));
    claims = moduleRef.get(getModelToken(OutboxClaim.name));
    keys = moduleRef.get(getModelToken(OutboxKey.name));
    connection = moduleRef.get(getConnectionToken());
  });

  /** The poll's lanes of these queues, by name. */
  async function dueLanes(queues: string[], now?: Date): Promise<string[]> {
    return (await store.lanesWithDueWork(queues, now)).map(({ lane }) => lane);
  }

  /** Every command the store sends while `work` runs (the driver's command monitoring). */
  async function commandsDuring(work: () => Promise<unknown>): Promise<CommandStartedEvent[]> {
    const seen: CommandStartedEvent[] = [];
    const listen = (event: CommandStartedEvent) => seen.push(event);
    const client = connection.getClient();
    client.on('commandStarted', listen);
    try {
      await work();
    } finally {
      client.off('commandStarted', listen);
    }
    return seen;
  }

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
    expect((await store.parked('spec', { order: 'newest', limit: 100 })).jobs.map((each) => each._id.toHexString())).toContain(job._id.toHexString());

    const [again, twice] = await Promise.all([store.retryParked(parked), store.retryParked(parked)]);
    expect(again._id.equals(twice._id)).toBe(true);
    expect(again).toMatchObject({ lane, seq: 2, state: 'queued', payload: { text: 'again' } });
    expect(await store.find(job._id)).toMatchObject({ state: 'retried', retriedAs: again._id });
  });

  it("lists one lane's parked jobs in lane order, not another lane's nor its jobs in other states", async () => {
    const lane = newLane();
    const other = newLane();
    const parkedOne = async (into: string, text: string) => {
      const job = await enqueue(into, { text });
      await store.recordParked((await store.claim(job._id, 'w', LEASE))!, `refused ${text}`);
      return job;
    };
    const first = await parkedOne(lane, 'first');
    await parkedOne(other, 'elsewhere');
    const done = await enqueue(lane, { text: 'done' });
    await store.recordDone((await store.claim(done._id, 'w', LEASE))!, {});
    const third = await parkedOne(lane, 'third');
    await enqueue(lane, { text: 'queued' });

    const listed = await store.parkedInLane(lane);
    expect(listed.map((job) => [job.seq, job.state, job.payload])).toEqual([
      [first.seq, 'parked', { text: 'first' }],
      [third.seq, 'parked', { text: 'third' }],
    ]);
  });

  it('deletes jobs finished before the cutoff with their claims and old key documents, and the lane goes on past them', async () => {
    const queue = `sweep-${Date.now()}`;
    const lane = newLane();
    const put = (key?: string) => store.enqueue({ queue, lane, payload: {}, key });
    const run = async (job: OutboxJob, how: 'done' | 'parked') => {
      const claim = (await store.claim(job, 'w', LEASE))!;
      if (how === 'done') await store.recordDone(claim, null);
      else await store.recordParked(claim, 'refused');
      await store.release(claim);
    };
    const [a, b, c] = [await put('sweep-key-a'), await put(), await put()];
    // The key document a version up to 2026-11-30 wrote beside a keyed job.
    await keys.create({ _id: 'sweep-key-a', jobId: a._id });
    await run(a, 'done');
    await store.advanceHead(lane, 1);
    await run(b, 'parked');
    await store.advanceHead(lane, 2);
    // The worker that finished c stopped before moving the head: the sweep moves it before deleting c.
    await run(c, 'done');
    const queued = await put();

    // Nothing finished before a cutoff in the past; another queue's sweep leaves these alone.
    expect((await store.sweepFinished([queue], new Date(Date.now() - 60_000))).deleted).toBe(0);
    expect((await store.sweepFinished([`${queue}-other`], new Date(Date.now() + 60_000))).deleted).toBe(0);

    expect((await store.sweepFinished([queue], new Date(Date.now() + 60_000))).deleted).toBe(2);
    expect(await store.find(a._id)).toBeNull();
    expect(await store.find(c._id)).toBeNull();
    expect(await store.find(b._id)).toMatchObject({ state: 'parked' });
    expect(await store.find(queued._id)).toMatchObject({ state: 'queued', seq: 4 });
    expect(await claims.countDocuments({ jobId: { $in: [a._id, c._id] } })).toBe(0);
    expect(await keys.findById('sweep-key-a').lean()).toBeNull();
    expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { seq: 4 } });

    // The key is free again and the next job takes the next number, never a deleted one's.
    const again = await put('sweep-key-a');
    expect(again).toMatchObject({ seq: 5, state: 'queued' });
    expect(again._id.equals(a._id)).toBe(false);
    expect((await store.sweepFinished([queue], new Date(Date.now() + 60_000))).deleted).toBe(0);
  });

  it('never gives a deleted job number to a new job when the tail hint was lost', async () => {
    const queue = `sweep-tail-${Date.now()}`;
    const lane = newLane();
    const job = await store.enqueue({ queue, lane, payload: {} });
    await marks.deleteOne({ _id: `tail:${lane}` });
    const claim = (await store.claim(job, 'w', LEASE))!;
    await store.recordDone(claim, null);
    expect((await store.sweepFinished([queue], new Date(Date.now() + 60_000))).deleted).toBe(1);
    const next = await store.enqueue({ queue, lane, payload: {} });
    expect(next.seq).toBe(2);
    expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { seq: 2 } });
  });

  it('runs the queued jobs of a lane whose marks were lost, also when its first places were swept', async () => {
    const queue = `lost-marks-${Date.now()}`;
    const lane = newLane();
    const put = () => store.enqueue({ queue, lane, payload: {} });
    const [first, second] = [await put(), await put()];
    for (const job of [first, second]) {
      const claim = (await store.claim(job, 'w', LEASE))!;
      await store.recordDone(claim, null);
      await store.advanceHead(lane, job.seq);
    }
    const [third, fourth] = [await put(), await put()];
    expect((await store.sweepFinished([queue], new Date(Date.now() + 60_000))).deleted).toBe(2);
    // The lane's marks go (a dropped collection, a partial restore): places 1 and 2 are empty, 3 and 4 queued.
    await marks.deleteMany({ _id: { $in: [`head:${lane}`, `tail:${lane}`] } });

    const events = await commandsDuring(async () => expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { seq: 3 } }));
    // One query on the lane found place 3; the lane stays in the due set.
    expect(events.filter((event) => event.commandName === 'find' && !('_id' in (event.command.filter as object)))).toHaveLength(1);
    expect(await dueLanes([queue])).toEqual([lane]);
    const claim = (await store.claim(third, 'w', LEASE))!;
    await store.recordDone(claim, null);
    await store.advanceHead(lane, third.seq);
    expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { _id: fourth._id } });
  });

  describe('sweeping the lane marks (ADR 0004)', () => {
    const HOUR = LANE_SWEEP_GRACE_MS;
    /** `count` jobs stored in a lane and run to the end, each finished at `finishedAt` (default now), with a key each. */
    async function finishedLane(queue: string, count: number, finishedAt: (seq: number) => Date = () => new Date()) {
      const lane = newLane();
      const stored: OutboxJob[] = [];
      for (let seq = 1; seq <= count; seq += 1) {
        const job = await store.enqueue({ queue, lane, payload: { seq }, key: `${lane}:key:${seq}` });
        const claim = (await store.claim(job, 'w', LEASE))!;
        await store.recordDone(claim, null, finishedAt(seq));
        await store.advanceHead(lane, job.seq);
        stored.push(job);
      }
      return { lane, jobs: stored };
    }
    const markOf = async (id: string) => (await marks.findById(id).lean())?.value;
    /** A finished lane of `count` jobs after phase 1 (its tail mark dropped), and the times to sweep it again with. */
    async function afterPhase1(name: string, count: number) {
      const queue = `${name}-${Date.now()}`;
      const { lane } = await finishedLane(queue, count);
      const cutoff = new Date(Date.now() + 60_000);
      const start = new Date(Date.now() + 120_000);
      await store.sweepFinished([queue], cutoff, 500, start);
      expect(await markOf(`tail:${lane}`)).toBeUndefined();
      return { queue, lane, cutoff, phase2: new Date(start.getTime() + HOUR + 60_000) };
    }
    const storedJobs = (lane: string) => jobs.countDocuments({ lane });

    it('deletes a short finished lane with its marks in two phases an hour apart, and the lane starts again at place 1', async () => {
      const queue = `lanes-${Date.now()}`;
      const { lane, jobs: run } = await finishedLane(queue, 2);
      const cutoff = new Date(Date.now() + 60_000);
      const start = new Date(Date.now() + 120_000);

      // Phase 1: the tail mark goes; the jobs and the head stay, so an enqueue could still probe past them.
      expect(await store.sweepFinished([queue], cutoff, 500, start)).toEqual({ deleted: 0, examined: 2 });
      expect(await markOf(`tail:${lane}`)).toBeUndefined();
      expect(await markOf(`head:${lane}`)).toBe(3);
      expect(await storedJobs(lane)).toBe(2);
      // Within the hour nothing more happens, and the noted jobs are not looked at again.
      expect(await store.sweepFinished([queue], cutoff, 500, new Date(start.getTime() + HOUR - 60_000))).toEqual({ deleted: 0, examined: 0 });
      expect(await storedJobs(lane)).toBe(2);

      // Phase 2: the head mark, the jobs, their claims and the key documents older versions wrote for them.
      await keys.create(run.map((job) => ({ _id: job.key, jobId: job._id })));
      expect((await store.sweepFinished([queue], cutoff, 500, new Date(start.getTime() + HOUR + 60_000))).deleted).toBe(2);
      expect(await markOf(`head:${lane}`)).toBeUndefined();
      expect(await storedJobs(lane)).toBe(0);
      expect(await claims.countDocuments({ jobId: { $in: run.map((job) => job._id) } })).toBe(0);
      expect(await keys.countDocuments({ _id: { $in: run.map((job) => job.key) } })).toBe(0);

      const next = await store.enqueue({ queue, lane, payload: {}, key: `${lane}:key:1` });
      expect(next).toMatchObject({ seq: 1, state: 'queued' });
      expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { seq: 1 } });
    });

    it('keeps the lane when work arrives between the phases: the enqueue probes past the finished jobs, phase 2 hands them to the ordinary sweep', async () => {
      const { queue, lane, cutoff, phase2 } = await afterPhase1('lanes-back', 2);

      const arrived = await enqueue(lane);
      expect(arrived.seq).toBe(3);
      expect(await markOf(`tail:${lane}`)).toBe(3);
      expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { seq: 3 } });

      expect(await store.sweepFinished([queue], cutoff, 500, phase2)).toEqual({ deleted: 2, examined: 2 });
      // The ordinary sweep took the two finished jobs back and deleted them; the lane keeps its marks.
      expect(await storedJobs(lane)).toBe(1);
      expect(await markOf(`head:${lane}`)).toBe(3);
      expect(await jobs.countDocuments({ lane, laneSweepAt: { $exists: true } })).toBe(0);
      expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { _id: arrived._id } });
    });

    it('hands a lane back when its next place holds a job whose enqueue has not written the tail yet', async () => {
      const { queue, lane, cutoff, phase2 } = await afterPhase1('lanes-next', 1);
      // An enqueue that read the tail before phase 1 inserted at place 2 and stopped before writing the tail.
      const late = await enqueue(lane);
      await marks.deleteOne({ _id: `tail:${lane}` });
      expect(late.seq).toBe(2);

      // Handed back: the ordinary sweep deletes the finished job and keeps the marks.
      expect((await store.sweepFinished([queue], cutoff, 500, phase2)).deleted).toBe(1);
      expect(await markOf(`head:${lane}`)).toBe(2);
      expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { _id: late._id } });
    });

    it('runs a job enqueued while phase 2 deletes: the head mark is gone, the reader finds it', async () => {
      const queue = `lanes-during-${Date.now()}`;
      const { lane } = await finishedLane(queue, 2);
      await store.sweepFinished([queue], new Date(Date.now() + 60_000), 500, new Date(Date.now() + 120_000));
      // Phase 2 has deleted the head mark and place 1, not yet place 2, when an enqueue finds no tail.
      await marks.deleteOne({ _id: `head:${lane}` });
      await jobs.deleteOne({ _id: jobIdAt(lane, 1) });
      const arrived = await enqueue(lane);
      expect(arrived.seq).toBe(1);
      await jobs.deleteOne({ _id: jobIdAt(lane, 2) });
      expect(await store.headOf(lane)).toMatchObject({ kind: 'due', job: { _id: arrived._id } });

      // Or it lands above a place still there, which is then deleted: the reader's one query for the lowest queued job.
      const other = await finishedLane(queue, 2);
      await store.sweepFinished([queue], new Date(Date.now() + 60_000), 500, new Date(Date.now() + 120_000));
      await marks.deleteOne({ _id: `head:${other.lane}` });
      const above = await enqueue(other.lane);
      expect(above.seq).toBe(3);
      await jobs.deleteMany({ _id: { $in: [jobIdAt(other.lane, 1), jobIdAt(other.lane, 2)] } });
      expect(await store.headOf(other.lane)).toMatchObject({ kind: 'due', job: { _id: above._id } });
    });

    it('keeps the marks of a long lane and of a lane with a parked job, and waits for a lane whose later job is not old yet', async () => {
      const queue = `lanes-kept-${Date.now()}`;
      const long = await finishedLane(queue, 17);
      const parked = newLane();
      const done = await store.enqueue({ queue, lane: parked, payload: {} });
      await store.recordDone((await store.claim(done, 'w', LEASE))!, null);
      await store.advanceHead(parked, 1);
      const refused = await store.enqueue({ queue, lane: parked, payload: {} });
      await store.recordParked((await store.claim(refused, 'w', LEASE))!, 'refused');
      await store.advanceHead(parked, 2);
      const old = new Date(Date.now() - 10 * 60_000);
      const spread = await finishedLane(queue, 2, (seq) => (seq === 1 ? old : new Date()));

      const cutoff = new Date(Date.now() - 60_000);
      const first = await store.sweepFinished([queue], cutoff, 500, new Date());
      expect(first.deleted).toBe(0);
      // The spread lane: its first job is old, its second is not; both stay, with the tail, until both are old.
      expect(await storedJobs(spread.lane)).toBe(2);
      expect(await markOf(`tail:${spread.lane}`)).toBe(2);
      expect((await store.sweepFinished([queue], cutoff, 500, new Date())).examined).toBe(0);

      const later = new Date(Date.now() + 60_000);
      expect((await store.sweepFinished([queue], later, 500, new Date())).deleted).toBe(18);
      expect(await storedJobs(long.lane)).toBe(0);
      expect([await markOf(`head:${long.lane}`), await markOf(`tail:${long.lane}`)]).toEqual([18, 17]);
      expect(await store.find(refused._id)).toMatchObject({ state: 'parked' });
      expect([await markOf(`head:${parked}`), await markOf(`tail:${parked}`)]).toEqual([3, 2]);
      expect(await markOf(`tail:${spread.lane}`)).toBeUndefined();
      expect(await storedJobs(spread.lane)).toBe(2);
      expect((await store.sweepFinished([queue], later, 500, new Date(Date.now() + HOUR + 60_000))).deleted).toBe(2);
      expect(await markOf(`head:${spread.lane}`)).toBeUndefined();
    });

    it('reads the tail again before inserting when its read is older than a minute (a stalled process)', async () => {
      const lane = newLane();
      await enqueue(lane);
      const tailReads = (events: CommandStartedEvent[]) =>
        events.filter((event) => event.commandName === 'find' && (event.command.filter as { _id?: unknown })._id === `tail:${lane}`).length;
      expect(tailReads(await commandsDuring(() => enqueue(lane)))).toBe(1);

      const realNow = performance.now.bind(performance);
      let calls = 0;
      // The first clock reading (when the tail is asked for) is a minute and a second behind every later one.
      const clock = jest.spyOn(performance, 'now').mockImplementation(() => (calls++ === 0 ? realNow() - 61_000 : realNow()));
      try {
        let stored: OutboxJob | undefined;
        expect(tailReads(await commandsDuring(async () => (stored = await enqueue(lane))))).toBe(2);
        expect(stored).toMatchObject({ seq: 3 });
      } finally {
        clock.mockRestore();
      }
    });
  });

  it('lists due lanes of the asked queues only', async () => {
    const lane = newLane();
    await store.enqueue({ queue: 'spec-other', lane, payload: {} });
    expect(await store.lanesWithDueWork(['spec-other'])).toContainEqual({ lane, queue: 'spec-other' });
    expect(await dueLanes(['spec-none'])).not.toContain(lane);
    expect(await dueLanes([])).toEqual([]);
  });

  it('answers null for an id that is not an ObjectId', async () => {
    expect(await store.find('not-an-id')).toBeNull();
    expect(await store.find(new Types.ObjectId())).toBeNull();
  });

  it('finds a lane head at any depth by _id: the job ids are derived from lane and seq', async () => {
    const lane = newLane();
    const [first, second] = [await enqueue(lane), await enqueue(lane)];
    expect(first._id.equals(jobIdAt(lane, 1))).toBe(true);
    expect(second._id.equals(jobIdAt(lane, 2))).toBe(true);
    expect(jobIdAt(lane, 1).equals(jobIdAt(`${lane}x`, 1))).toBe(false);
  });

  it('finds the latest of many claims of a job, with or without the job attempts as a hint', async () => {
    const job = await enqueue(newLane());
    let at = new Date('2030-01-01T00:00:00Z').getTime();
    for (let number = 1; number <= 11; number += 1) {
      at += LEASE + 1; // each claim expired before the next
      expect((await store.claim(job._id, `w${number}`, LEASE, new Date(at)))?.number).toBe(number);
    }
    at += LEASE + 1;
    // attempts only bounds the number of claims from below: the search goes on past it.
    expect((await store.claim({ _id: job._id, attempts: 3 }, 'hinted', LEASE, new Date(at)))?.number).toBe(12);
    expect(await store.claim({ _id: job._id, attempts: 12 }, 'late', LEASE, new Date(at + 1))).toBeNull();
  });

  it('returns the stored job for a key used again, from this lane or another, and stores nothing for the key', async () => {
    const lane = newLane();
    const key = `used-key:${lane}`;
    const first = await enqueue(lane, {}, key);
    await enqueue(lane);
    // From the same lane the insert lands on a later place (the first one is taken): the key index refuses it there.
    expect((await enqueue(lane, {}, key))._id.equals(first._id)).toBe(true);
    const other = newLane();
    expect((await enqueue(other, {}, key))._id.equals(first._id)).toBe(true);
    expect(await jobs.countDocuments({ lane })).toBe(2);
    expect(await jobs.countDocuments({ lane: other })).toBe(0);
    expect(await keys.countDocuments({ _id: key })).toBe(0);
  });

  it('keeps a lane in the due set while it has a queued job, even when a worker finds it empty at the same moment', async () => {
    const lane = newLane();
    for (let round = 0; round < 15; round += 1) {
      const [, job] = await Promise.all([store.headOf(lane), enqueue(lane, { round })]);
      expect(await dueLanes(['spec'])).toContain(lane);
      const claim = (await store.claim(job, 'w', LEASE))!;
      await store.recordDone(claim, null);
      await store.release(claim);
      await store.advanceHead(lane, job.seq);
    }
    expect(await store.headOf(lane)).toEqual({ kind: 'empty' });
    expect(await dueLanes(['spec'])).not.toContain(lane);
  });

  it('finds a lane it expects empty with one read after leaving the due set, and puts a lane that is not back', async () => {
    const shape = (events: CommandStartedEvent[]) => events.map((event) => `${event.commandName} ${event.command[event.commandName] as string}`);
    const empty = newLane();
    const done = await enqueue(empty);
    const claim = (await store.claim(done, 'w', LEASE))!;
    await store.recordDone(claim, null);
    await store.advanceHead(empty, done.seq);
    const looked = await commandsDuring(async () => expect(await store.headOf(empty, new Date(), done.seq + 1, true)).toEqual({ kind: 'empty' }));
    expect(shape(looked)).toEqual(['delete outbox_due_lanes', 'find outbox_jobs']);
    expect(await dueLanes(['spec'])).not.toContain(empty);

    // Not empty after all (another replica enqueued meanwhile): the job is found and its lane is due again.
    const busy = newLane();
    const first = await enqueue(busy);
    await enqueue(busy);
    const held = (await store.claim(first, 'w', LEASE))!;
    await store.recordDone(held, null);
    await store.advanceHead(busy, first.seq);
    expect(await store.headOf(busy, new Date(), first.seq + 1, true)).toMatchObject({ kind: 'due', job: { seq: 2 } });
    expect(await dueLanes(['spec'])).toContain(busy);
  });

  it('leaves a backing-off lane out of the poll until its head is due', async () => {
    const lane = newLane();
    const job = await enqueue(lane);
    const claim = (await store.claim(job, 'w', LEASE))!;
    const retryAt = new Date(Date.now() + 60_000);
    await store.recordRetry(claim, 'Discord 502', retryAt);
    await store.release(claim);
    expect(await store.headOf(lane)).toMatchObject({ kind: 'waiting' });
    expect(await dueLanes(['spec'])).not.toContain(lane);
    expect(await dueLanes(['spec'], new Date(retryAt.getTime() + 1))).toContain(lane);
  });

  it('reads only the lanes due longest for the gauges, and counts any further lane with work as one job', async () => {
    const queue = `spec-stats-capped-${Date.now()}`;
    const [oldest, single, deep] = [newLane(), newLane(), newLane()];
    for (let n = 0; n < 3; n += 1) await store.enqueue({ queue, lane: oldest, payload: {} });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await store.enqueue({ queue, lane: single, payload: {} });
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (let n = 0; n < 4; n += 1) await store.enqueue({ queue, lane: deep, payload: {} });
    expect((await store.stats(queue)).depth).toBe(8);
    // Only the lane due longest is read: its 3 jobs, then one for each of the other two lanes.
    expect((await store.stats(queue, new Date(), 1)).depth).toBe(5);
  });

  it('counts depth, the oldest queued job and parked jobs from the lanes with work', async () => {
    const queue = `spec-stats-${Date.now()}`;
    const lane = newLane();
    const first = await store.enqueue({ queue, lane, payload: {} });
    for (let n = 0; n < 4; n += 1) await store.enqueue({ queue, lane, payload: {} });
    // The lane's head has waited an hour (written past mongoose, which keeps createdAt to itself).
    await jobs.collection.updateOne({ _id: first._id }, { $set: { createdAt: new Date(Date.now() - 3_600_000) } });
    const parkedLane = newLane();
    const doomed = await store.enqueue({ queue, lane: parkedLane, payload: {} });
    const claim = (await store.claim(doomed, 'w', LEASE))!;
    await store.recordParked(claim, 'Missing Access');
    await store.release(claim);
    await store.advanceHead(parkedLane, doomed.seq);
    expect(await store.headOf(parkedLane)).toEqual({ kind: 'empty' });
    const stats = await store.stats(queue);
    expect(stats.depth).toBe(5);
    expect(stats.parked).toBe(1);
    expect(stats.oldestAgeSeconds).toBeGreaterThanOrEqual(3_600);
    expect(stats.oldestAgeSeconds).toBeLessThan(3_600 + 600);
  });

  /**
   * The flat-cost guarantee, without a clock: FerretDB v1 hands a filter to SQLite only when it is `_id` equality and
   * nothing else (any other filter reads every document of the collection). So every command a job's steps send must
   * filter on `_id` alone, and FerretDB's explain must say it pushed that filter down.
   */
  describe('the per-job path reads and writes by _id only', () => {
    const queued = 60;
    let lane: string;

    beforeAll(async () => {
      lane = newLane();
      await Promise.all(Array.from({ length: queued }, () => enqueue(lane)));
    });

    const filterOf = (event: CommandStartedEvent): Document[] => {
      const command = event.command;
      switch (event.commandName) {
        case 'find':
        case 'count':
        case 'distinct':
          return [command.filter ?? command.query ?? {}];
        case 'update':
          return (command.updates as Document[]).map((update) => update.q as Document);
        case 'delete':
          return (command.deletes as Document[]).map((remove) => remove.q as Document);
        case 'findAndModify':
          return [command.query ?? {}];
        case 'aggregate':
          return [((command.pipeline as Document[])[0]?.$match as Document) ?? {}];
        default:
          return [];
      }
    };
    const byIdOnly = (filter: Document) =>
      Object.keys(filter).length === 1 && (typeof filter._id === 'string' || (filter._id as { _bsontype?: string } | null)?._bsontype === 'ObjectId');

    async function expectIdLookupsOnly(events: CommandStartedEvent[]): Promise<void> {
      const filtered = events.filter((event) => filterOf(event).length > 0);
      expect(filtered.length).toBeGreaterThan(0);
      for (const event of filtered) {
        for (const filter of filterOf(event)) {
          expect({ command: event.commandName, collection: event.command[event.commandName], filter, byIdOnly: byIdOnly(filter) }).toMatchObject({
            byIdOnly: true,
          });
        }
      }
      // And the database agrees, for each of them: FerretDB reports filterPushdown; MongoDB examines at most one document.
      for (const event of filtered) {
        const explained = await connection.db!.command({
          explain: { find: event.command[event.commandName] as string, filter: filterOf(event)[0] },
          verbosity: 'executionStats',
        });
        expect(explained.filterPushdown ?? (explained.executionStats as Document).totalDocsExamined <= 1).toBe(true);
      }
    }

    it('for the head, the claim, renewal, the outcome, the release and the head move', async () => {
      const events = await commandsDuring(async () => {
        for (let n = 0; n < 3; n += 1) {
          const head = await store.headOf(lane);
          if (head.kind !== 'due') throw new Error(`no due head: ${head.kind}`);
          const claim = (await store.claim(head.job, 'w', LEASE))!;
          await store.renew(claim, LEASE);
          expect(await store.stillHolds(claim)).toBe(true);
          if (n === 1) await store.recordRetry(claim, 'Discord 502', new Date(Date.now() - 1));
          else await store.recordDone(claim, { messageId: String(n) });
          await store.release(claim);
          if (n !== 1) await store.advanceHead(lane, head.job.seq);
        }
      });
      expect(events.map((event) => event.commandName)).toEqual(expect.arrayContaining(['find', 'insert', 'update']));
      await expectIdLookupsOnly(events);
    });

    it('for a job never run: its claim is one insert, without a read', async () => {
      const fresh = await enqueue(newLane());
      const events = await commandsDuring(async () => {
        expect(await store.claim(fresh, 'w', LEASE)).toMatchObject({ number: 1, owner: 'w' });
      });
      expect(events.map((event) => `${event.commandName} ${event.command[event.commandName] as string}`)).toEqual(['insert outbox_claims']);
    });

    it('for an enqueue, with and without a key', async () => {
      const events = await commandsDuring(async () => {
        await enqueue(lane);
        await enqueue(lane, {}, `shape:${lane}`);
      });
      await expectIdLookupsOnly(events);
    });

    it('for a repeated keyed enqueue: one read of the job by its key, every other step by _id', async () => {
      const key = `repeat:${lane}`;
      const first = await enqueue(lane, {}, key);
      const events = await commandsDuring(async () => expect((await enqueue(lane, {}, key))._id.equals(first._id)).toBe(true));
      const byKey = events.filter((event) => filterOf(event).some((filter) => !byIdOnly(filter)));
      expect(byKey.map((event) => [event.commandName, event.command[event.commandName], filterOf(event)])).toEqual([
        ['find', 'outbox_jobs', [{ key }]],
      ]);
      await expectIdLookupsOnly(events.filter((event) => !byKey.includes(event)));
    });

    it('for an enqueue with a new key: no read before the insert (the unique key index refuses a repeat)', async () => {
      const fresh = newLane();
      const events = await commandsDuring(() => enqueue(fresh, {}, `new:${fresh}`));
      const shape = events.map((event) => `${event.commandName} ${event.command[event.commandName] as string}`);
      // Mark the lane beside reading the tail hint; insert; mark again; the tail hint. Nothing more for the key.
      expect([shape.slice(0, 2).sort(), ...shape.slice(2)]).toEqual([
        ['find outbox_lanes', 'update outbox_due_lanes'],
        'insert outbox_jobs',
        'update outbox_due_lanes',
        'update outbox_lanes',
      ]);
    });

    it('for a lane found empty', async () => {
      const empty = newLane();
      const claim = (await store.claim(await enqueue(empty), 'w', LEASE))!;
      await store.recordDone(claim, null);
      await store.advanceHead(empty, 1);
      const events = await commandsDuring(async () => expect(await store.headOf(empty)).toEqual({ kind: 'empty' }));
      await expectIdLookupsOnly(events);
    });

    it('while the poll and the gauges read only the lanes with work, never the jobs by anything but _id', async () => {
      const events = await commandsDuring(async () => {
        await store.lanesWithDueWork(['spec']);
        await store.stats('spec');
      });
      const jobReads = events.filter((event) => event.command[event.commandName] === 'outbox_jobs');
      await expectIdLookupsOnly(jobReads);
      const scans = events.filter((event) => filterOf(event).some((filter) => !byIdOnly(filter)));
      expect(new Set(scans.map((event) => event.command[event.commandName] as string))).toEqual(new Set(['outbox_due_lanes', 'outbox_parked']));
    });
  });
});
