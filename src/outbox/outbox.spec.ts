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
});
