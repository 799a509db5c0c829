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

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MongooseModule.forRoot(testMongoUri(), { autoIndex: true, monitorCommands: true }), MongooseModule.forFeature(OUTBOX_MODELS)],
      providers: [
        OutboxStore,
        Outbox,
        // A poll far away, so only the work this spec starts runs while it counts.
        { provide: APP_CONFIG, useValue: loadConfig({ SYSTEM_TOKEN: 'spec-token-spec-token', OUTBOX_POLL_INTERVAL_MS: '60000' }) },
      ],
    }).compile();
    outbox = moduleRef.get(Outbox);
    outbox.register<{ name: string }>(
      'spec-short',
      async (job) => {
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

  it('runs the first job of a new short lane on what it stored: no read of the job or the head, one look at the end', async () => {
    // Let the first poll (at start-up) pass before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seen: CommandStartedEvent[] = [];
    const listen = (event: CommandStartedEvent) => seen.push(event);
    connection.getClient().on('commandStarted', listen);
    const lane = `spec:short:${Date.now()}`;
    try {
      await outbox.enqueue({ queue: 'spec-short', lane, payload: { name: lane } });
      const deadline = Date.now() + 10_000;
      while (!ran.includes(lane) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      // The drain's last commands come after the handler returned.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      connection.getClient().off('commandStarted', listen);
    }
    expect(ran).toContain(lane);
    // Enqueue: mark the lane, read the tail hint, insert, mark again, move the tail hint. Run: claim 1, record done,
    // move the head. Then the lane leaves the due set and its next place is read once.
    expect(seen.map((event) => `${event.commandName} ${event.command[event.commandName] as string}`).sort()).toEqual(
      [
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
      ].sort(),
    );
  });
});
