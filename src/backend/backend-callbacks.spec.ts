import { Logger } from '@nestjs/common';
import { Types } from 'mongoose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config/config';
import type { Outbox, OutboxHandler } from '../outbox/outbox';
import type { BackendCallback } from './backend-callback';
import { BackendCallbacks, type OwedCallback } from './backend-callbacks';
import { BackendClient } from './backend-client';

const TOKEN = 'system-token-of-16';

function callback(messageId: string): BackendCallback {
  return {
    event: 'created',
    idempotencyKey: `discord:${messageId}:created:1`,
    guildId: '111111111111111111',
    channelId: '222222222222222222',
    messageId,
    authorId: '444444444444444444',
    urn: `s3://herald/discord/${messageId}.png`,
    createdAt: '2026-11-29T20:00:00.000Z',
    editedAt: null,
    deletedAt: null,
  };
}

/** The outbox as BackendCallbacks uses it: the handler it registers, and what it owes. */
class RecordingOutbox {
  handler?: OutboxHandler<OwedCallback>;
  readonly owed: Array<{ lane: string; key?: string; notBefore?: Date; parkOnFirstRun?: string }> = [];
  /** Parked jobs, in the order they were parked. */
  parkedJobs: Array<{ _id: Types.ObjectId; lane: string; seq: number; payload: OwedCallback }> = [];
  /** The queue's parked jobs, newest first, a page at a time (what `GET /outbox` lists). */
  parked(_queue: string, page: { limit: number }): Promise<{ items: unknown[]; next: null }> {
    return Promise.resolve({ items: [...this.parkedJobs].reverse().slice(0, page.limit), next: null });
  }
  parkedInLane(lane: string): Promise<unknown[]> {
    return Promise.resolve(this.parkedJobs.filter((job) => job.lane === lane).sort((a, b) => a.seq - b.seq));
  }
  register(_queue: string, handler: OutboxHandler<OwedCallback>): void {
    this.handler = handler;
  }
  enqueue(job: { lane: string; key?: string; notBefore?: Date; parkOnFirstRun?: string }): Promise<void> {
    this.owed.push({ lane: job.lane, key: job.key, notBefore: job.notBefore, parkOnFirstRun: job.parkOnFirstRun });
    return Promise.resolve();
  }
}

describe('BackendCallbacks', () => {
  let server: Server;
  /** What the backend answers next; every request is counted. */
  let status = 204;
  /** How long the backend takes to answer the requests it gets from now on. */
  let answerAfterMs = 0;
  let requests = 0;
  let outbox: RecordingOutbox;
  let callbacks: BackendCallbacks;

  beforeAll(async () => {
    // What BackendCallbacks logs belongs to an operator, not to CI's log.
    Logger.overrideLogger(false);
    server = createServer((request, response) => {
      requests += 1;
      const [answer, after] = [status, answerAfterMs];
      request.resume().on('end', () => setTimeout(() => response.writeHead(answer).end(), after));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    status = 204;
    answerAfterMs = 0;
    requests = 0;
    const config = {
      backend: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callbacks`, protocol: 'herald', token: TOKEN },
      outbox: { backoffBaseMs: 1000, backoffMaxMs: 60_000 },
    } as unknown as AppConfig;
    outbox = new RecordingOutbox();
    callbacks = new BackendCallbacks(outbox as unknown as Outbox, new BackendClient(config), config);
    callbacks.onModuleInit();
  });

  const runQueued = (owed: OwedCallback) => outbox.handler!({ id: 'job', queue: 'backend', lane: 'lane', seq: 1, payload: owed, attempts: 0 });

  it('delivers from the caller while the backend answers, and answers what became of it', async () => {
    expect((await callbacks.deliverNow(callback('1'))).kind).toBe('delivered');
    status = 503;
    expect((await callbacks.deliverNow(callback('2'))).kind).toBe('failed');
    expect(requests).toBe(2);
    expect(callbacks.consecutiveFailures).toBe(1);
  });

  it('skips the call after a failure until a queued callback gets through, so a down backend holds no job', async () => {
    status = 503;
    expect((await callbacks.deliverNow(callback('1'))).kind).toBe('failed');
    status = 204;
    expect((await callbacks.deliverNow(callback('2'))).kind).toBe('skipped');
    expect(requests).toBe(1);

    expect((await runQueued(callback('1'))).kind).toBe('done');
    expect((await callbacks.deliverNow(callback('3'))).kind).toBe('delivered');
    expect(requests).toBe(3);
  });

  it('skips the call while another has waited over a second for its answer or the last took that long, until one is quick', async () => {
    answerAfterMs = 1500;
    const slow = callbacks.deliverNow(callback('1'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    answerAfterMs = 0;
    // A call in flight for less than a second is a backend at work: this one is made.
    expect((await callbacks.deliverNow(callback('2'))).kind).toBe('delivered');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await callbacks.deliverNow(callback('3'))).kind).toBe('skipped');
    expect(requests).toBe(2);

    // Answered, but slowly: the calls are still left to the outbox, until a queued one is answered in time.
    expect((await slow).kind).toBe('delivered');
    expect((await callbacks.deliverNow(callback('4'))).kind).toBe('skipped');
    expect(requests).toBe(2);
    expect((await runQueued(callback('3'))).kind).toBe('done');
    expect((await callbacks.deliverNow(callback('5'))).kind).toBe('delivered');
    expect(requests).toBe(4);
  });

  it('owes a callback in its message lane, under its idempotency key, one backoff step later after a failed call', async () => {
    const before = Date.now();
    await callbacks.owe(callback('7'), { kind: 'failed' });
    expect(outbox.owed).toHaveLength(1);
    expect(outbox.owed[0].lane).toBe('backend:discord:7');
    expect(outbox.owed[0].key).toBe('backend:discord:7:created:1');
    // backoffDelay(1) with a 1 s base: 0.5–1 s (full jitter, never under half the base).
    expect(outbox.owed[0].notBefore!.getTime() - before).toBeGreaterThanOrEqual(500);
    expect(outbox.owed[0].notBefore!.getTime() - before).toBeLessThanOrEqual(1100);
  });

  it('answers a refusal for good with its reason, and owes it to be parked with that reason instead of sent again', async () => {
    status = 422;
    const tried = await callbacks.deliverNow(callback('8'));
    expect(tried).toEqual({ kind: 'refused', reason: expect.stringContaining('422') as string });
    await callbacks.owe(callback('8'), tried);
    expect(outbox.owed[0].parkOnFirstRun).toBe(tried.kind === 'refused' ? tried.reason : 'not refused');
    expect(outbox.owed[0].notBefore).toBeUndefined();
    expect(requests).toBe(1);
  });

  it('with the legacy protocol, counts a 404 to a delete as done: nothing parked, no failure in a row', async () => {
    const config = {
      backend: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, protocol: 'legacy', token: TOKEN },
      s3: { bucket: 'files', publicUrl: 'https://files.s3.amazonaws.com' },
      outbox: { backoffBaseMs: 1000, backoffMaxMs: 60_000 },
    } as unknown as AppConfig;
    const legacy = new BackendCallbacks(outbox as unknown as Outbox, new BackendClient(config), config);
    status = 404;
    for (const id of ['21', '22', '23']) {
      expect(await legacy.deliverNow({ ...callback(id), event: 'deleted', idempotencyKey: `discord:${id}:deleted` })).toEqual({ kind: 'delivered' });
    }
    expect(legacy.consecutiveFailures).toBe(0);
    // A 404 to a POST is still a refusal.
    expect((await legacy.deliverNow(callback('24'))).kind).toBe('refused');
  });

  it("parks a message's later callback behind its parked earlier one, without calling the backend, and lets the earlier one through", async () => {
    const created = callback('30');
    const updated = { ...callback('30'), event: 'updated' as const, idempotencyKey: 'discord:30:updated:2' };
    const parkedId = new Types.ObjectId();
    outbox.parkedJobs = [{ _id: parkedId, lane: 'backend:discord:30', seq: 1, payload: created }];
    const run = (payload: OwedCallback, seq: number) =>
      outbox.handler!({ id: `job${seq}`, queue: 'backend', lane: 'backend:discord:30', seq, payload, attempts: 0 });

    const behind = await run(updated, 2);
    expect(behind.kind).toBe('park');
    expect(behind.kind === 'park' && behind.reason).toContain(`POST /outbox/${parkedId.toHexString()}/retry`);
    expect(requests).toBe(0);
    // The earlier one, retried (a new job at the end of the lane), is not held back by the later one parked behind it.
    outbox.parkedJobs = [{ _id: new Types.ObjectId(), lane: 'backend:discord:30', seq: 2, payload: updated }];
    expect((await run(created, 3)).kind).toBe('done');
    // Another message's callbacks are not held back at all.
    expect(
      (await outbox.handler!({ id: 'j', queue: 'backend', lane: 'backend:discord:31', seq: 1, payload: callback('31'), attempts: 0 })).kind,
    ).toBe('done');
  });

  it("finds a message's parked earlier callback however many other messages' callbacks were parked after it", async () => {
    const created = callback('40');
    const parkedId = new Types.ObjectId();
    outbox.parkedJobs = [{ _id: parkedId, lane: 'backend:discord:40', seq: 1, payload: created }];
    // A backend that refused a whole burst: far more parked callbacks than one page of GET /outbox, all newer.
    for (let n = 0; n < 150; n += 1) {
      outbox.parkedJobs.push({ _id: new Types.ObjectId(), lane: `backend:discord:5${n}`, seq: 1, payload: callback(`5${n}`) });
    }
    const updated = { ...created, event: 'updated' as const, idempotencyKey: 'discord:40:updated:2' };

    const behind = await outbox.handler!({ id: 'job2', queue: 'backend', lane: 'backend:discord:40', seq: 2, payload: updated, attempts: 0 });
    expect(behind.kind === 'park' && behind.reason).toContain(`POST /outbox/${parkedId.toHexString()}/retry`);
    expect(requests).toBe(0);
  });
});
