import { getConnectionToken, MongooseModule } from '@nestjs/mongoose';
import { Test, type TestingModule } from '@nestjs/testing';
import type { CommandStartedEvent } from 'mongodb';
import type { Connection } from 'mongoose';
import { testMongoUri } from '../../test/support/servers';
import { APP_CONFIG, loadConfig } from '../config/config';
import { Outbox, outcome } from './outbox';
import { OUTBOX_MODELS } from './outbox.schema';
import { OutboxStore } from './outbox.store';

jest.setTimeout(60_000);

/**
 * The worker's own reads and writes for a job, against the real FerretDB v1: what each job of a burst costs the
 * database (and Herald the driver's work for each command), counted by the driver's command monitoring.
 */
describe('Outbox worker on FerretDB', () => {
  let moduleRef: TestingModule;
  let outbox: Outbox;
  let connection: Connection;
  const ran: string[] = [];
  /** A job named `hold` runs until this is called. */
  let release: (() => void) | undefined;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MongooseModule.forRoot(testMongoUri(), { autoIndex: true, monitorCommands: true }), MongooseModule.forFeature(OUTBOX_MODELS)],
      providers: [
        OutboxStore,
        Outbox,
        // A poll far away, so only the work this spec starts runs while it counts.
        {
          provide: APP_CONFIG,
          useValue: loadConfig({ SYSTEM_TOKEN: 'spec-token-spec-token', OUTBOX_POLL_INTERVAL_MS: '60000', OUTBOX_CONCURRENCY: '1' }),
        },
      ],
    }).compile();
    outbox = moduleRef.get(Outbox);
    outbox.register<{ name: string }>(
      'spec-short',
      async (job) => {
        if (job.payload.name === 'hold') await new Promise<void>((resolve) => (release = resolve));
        ran.push(job.payload.name);
        return outcome.done();
      },
      { shortLanes: true },
    );
    await moduleRef.init();
    connection = moduleRef.get(getConnectionToken());
    // The first poll also refreshes the gauges (a read per lane, then the parked count): let it end before counting,
    // or its last reads land in the first test's window (seen once in CI as an extra `aggregate outbox_parked`).
    const gauges = outbox as unknown as { statsAt: number; refreshing: boolean };
    const deadline = Date.now() + 30_000;
    while ((gauges.statsAt === 0 || gauges.refreshing) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  });

  afterAll(async () => {
    await moduleRef?.close();
  });

  /** The commands sent while `work` runs and until the jobs `names` have run, as "command collection". */
  async function commandsUntilRun(names: string[], work: () => Promise<unknown>): Promise<string[]> {
    const seen: CommandStartedEvent[] = [];
    const listen = (event: CommandStartedEvent) => seen.push(event);
    connection.getClient().on('commandStarted', listen);
    try {
      await work();
      const deadline = Date.now() + 10_000;
      while (!names.every((name) => ran.includes(name)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      // The drain's last commands come after the handler returned.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      connection.getClient().off('commandStarted', listen);
    }
    expect(ran).toEqual(expect.arrayContaining(names));
    return seen.map((event) => `${event.commandName} ${event.command[event.commandName] as string}`);
  }

  /**
   * Enqueue: mark the lane, read the tail hint, insert, mark again, move the tail hint. Run: claim 1, record done, move
   * the head. Then the lane leaves the due set and its next place is read once.
   */
  const FIRST_JOB_OF_A_SHORT_LANE = [
    'update outbox_due_lanes',
    'find outbox_lanes',
    'insert outbox_jobs',
    'update outbox_due_lanes',
    'update outbox_lanes',
    'insert outbox_claims',
    'update outbox_jobs',
    'update outbox_lanes',
    'delete outbox_due_lanes',
    'find outbox_jobs',
  ];

  it('runs the first job of a new short lane on what it stored: no read of the job or the head, one look at the end', async () => {
    // Let the first poll (at start-up) pass before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lane = `spec:short:${Date.now()}`;
    const shape = await commandsUntilRun([lane], () => outbox.enqueue({ queue: 'spec-short', lane, payload: { name: lane } }));
    expect(shape.sort()).toEqual([...FIRST_JOB_OF_A_SHORT_LANE].sort());
  });

  it('keeps a first job it stored with its lane while the lane waits for a slot', async () => {
    const lanes = [1, 2, 3].map((n) => `spec:waiting:${Date.now()}:${n}`);
    const shape = await commandsUntilRun(['hold', ...lanes], async () => {
      // The only slot (OUTBOX_CONCURRENCY 1) is busy with `hold`: the three lanes after it wait for it.
      await outbox.enqueue({ queue: 'spec-short', lane: `spec:hold:${Date.now()}`, payload: { name: 'hold' } });
      for (const lane of lanes) await outbox.enqueue({ queue: 'spec-short', lane, payload: { name: lane } });
      while (!release) await new Promise((resolve) => setTimeout(resolve, 10));
      release();
    });
    expect(shape.sort()).toEqual(
      Array.from({ length: 4 }, () => FIRST_JOB_OF_A_SHORT_LANE)
        .flat()
        .sort(),
    );
  });

  it('parks a job its caller already tried for good without running it, and runs it when it is sent again', async () => {
    const lane = `spec:refused:${Date.now()}`;
    const stored = await outbox.enqueue({ queue: 'spec-short', lane, payload: { name: lane }, parkOnFirstRun: 'refused: 422 Unprocessable' });
    const parked = await outbox.whenFinished(stored._id, 10_000);
    expect(parked).toMatchObject({ state: 'parked', attempts: 1, lastError: 'refused: 422 Unprocessable' });
    expect(ran).not.toContain(lane);
    expect((await outbox.parked('spec-short', { order: 'newest', limit: 100 })).items.map((job) => job.lane)).toContain(lane);

    const again = await outbox.retryParked(parked!);
    expect(await outbox.whenFinished(again._id, 10_000)).toMatchObject({ state: 'done', attempts: 1 });
    expect(ran.filter((name) => name === lane)).toHaveLength(1);
  });
});

/**
 * How a process shares its OUTBOX_CONCURRENCY slots between queues when one queue's jobs hang (a backend that takes
 * every callback until its timeout): the other queues keep moving.
 */
describe('Outbox slots shared between queues', () => {
  let moduleRef: TestingModule;
  let outbox: Outbox;
  const ran: string[] = [];
  let slowRunning = 0;
  /** Slow jobs run until this opens; fast jobs wait for `go`, then take a moment. */
  let openSlow!: () => void;
  let slowGate = new Promise<void>((resolve) => (openSlow = resolve));
  let go!: () => void;
  let started = new Promise<void>((resolve) => (go = resolve));
  /** How many slow jobs were running as each fast job started. */
  const slowAtFastStart: number[] = [];

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MongooseModule.forRoot(testMongoUri(), { autoIndex: true }), MongooseModule.forFeature(OUTBOX_MODELS)],
      providers: [
        OutboxStore,
        Outbox,
        {
          provide: APP_CONFIG,
          useValue: loadConfig({ SYSTEM_TOKEN: 'spec-token-spec-token', OUTBOX_POLL_INTERVAL_MS: '60000', OUTBOX_CONCURRENCY: '4' }),
        },
      ],
    }).compile();
    outbox = moduleRef.get(Outbox);
    outbox.register<{ name: string }>('spec-slow', async (job) => {
      slowRunning += 1;
      await slowGate;
      slowRunning -= 1;
      ran.push(job.payload.name);
      return outcome.done();
    });
    outbox.register<{ name: string }>('spec-fast', async (job) => {
      await started;
      slowAtFastStart.push(slowRunning);
      await new Promise((resolve) => setTimeout(resolve, 30));
      ran.push(job.payload.name);
      return outcome.done();
    });
    await moduleRef.init();
  });

  afterAll(async () => {
    await moduleRef?.close();
  });

  beforeEach(() => {
    slowGate = new Promise<void>((resolve) => (openSlow = resolve));
    started = new Promise<void>((resolve) => (go = resolve));
    slowAtFastStart.length = 0;
  });

  // A failed case leaves no job waiting on its gates, so the module can close.
  afterEach(() => {
    openSlow();
    go();
  });

  async function until(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  const lanesOf = (kind: string, count: number) => Array.from({ length: count }, (_, n) => `spec:${kind}:${Date.now()}:${n}`);

  it('leaves one slot to the other queues while every job of one queue hangs', async () => {
    go();
    const slow = lanesOf('hanging', 6);
    for (const lane of slow) await outbox.enqueue({ queue: 'spec-slow', lane, payload: { name: lane } });
    await until(() => slowRunning >= 3, 'three slow jobs');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slowRunning).toBe(3);

    const [fast] = lanesOf('meanwhile', 1);
    await outbox.enqueue({ queue: 'spec-fast', lane: fast, payload: { name: fast } });
    await until(() => ran.includes(fast), 'the fast job while the slow ones hang');
    expect(slowRunning).toBe(3);

    openSlow();
    await until(() => slow.every((lane) => ran.includes(lane)), 'the slow jobs once they answer');
  });

  it('gives a freed slot to the waiting queue that holds the fewest, so hanging jobs never take more than their share', async () => {
    // Everything is queued while the first fast jobs wait for `go`: three fast lanes hold slots, the fourth slot takes
    // a slow lane, and the rest wait. Taking turns would hand the slow queue every other freed slot up to three.
    const fast = lanesOf('fast', 20);
    const slow = lanesOf('slow', 6);
    for (const lane of fast) await outbox.enqueue({ queue: 'spec-fast', lane, payload: { name: lane } });
    for (const lane of slow) await outbox.enqueue({ queue: 'spec-slow', lane, payload: { name: lane } });
    go();
    await until(() => fast.every((lane) => ran.includes(lane)), 'the fast jobs beside the hanging ones');
    expect(slowAtFastStart).toHaveLength(20);
    expect(Math.max(...slowAtFastStart)).toBe(2);

    openSlow();
    await until(() => slow.every((lane) => ran.includes(lane)), 'the slow jobs once they answer');
  });
});
