import { getModelToken, MongooseModule } from '@nestjs/mongoose';
import { Test, type TestingModule } from '@nestjs/testing';
import { Model, Types } from 'mongoose';
import { testMongoUri } from '../../test/support/servers';
import { APP_CONFIG, loadConfig } from '../config/config';
import { Outbox } from './outbox';
import { decodeCursor, encodeCursor, type OutboxListOrder, pageRequest } from './outbox-page';
import { OutboxJob, OutboxParkedMark, OUTBOX_MODELS } from './outbox.schema';
import { OutboxStore } from './outbox.store';

jest.setTimeout(120_000);

describe('outbox listing cursors', () => {
  it('reads back what it wrote and refuses anything else', () => {
    const cursor = { at: new Date('2026-12-01T05:00:00.123Z'), id: new Types.ObjectId('665f1c2ab0c4a3e1d2f00a11') };
    const decoded = decodeCursor(encodeCursor(cursor));
    expect(decoded?.at.toISOString()).toBe('2026-12-01T05:00:00.123Z');
    expect(decoded?.id.toHexString()).toBe('665f1c2ab0c4a3e1d2f00a11');
    const forged = (text: string) => Buffer.from(text).toString('base64url');
    for (const bad of ['', 'nope', '2026-12-01', forged('1.665f1c2ab0c4a3e1d2f00a1'), forged('x.665f1c2ab0c4a3e1d2f00a11'), 'a'.repeat(200)]) {
      expect(decodeCursor(bad)).toBeNull();
    }
  });

  it('lists newest first unless asked otherwise, 100 a page', () => {
    expect(pageRequest({})).toEqual({ order: 'newest', after: undefined, limit: 100 });
  });
});

/** Listings read page by page on the real FerretDB v1 while jobs keep arriving. */
describe('Outbox listings on FerretDB', () => {
  let moduleRef: TestingModule;
  let outbox: Outbox;
  let store: OutboxStore;
  const queue = `spec-page-${Date.now()}`;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [MongooseModule.forRoot(testMongoUri(), { autoIndex: true }), MongooseModule.forFeature(OUTBOX_MODELS)],
      providers: [
        OutboxStore,
        Outbox,
        { provide: APP_CONFIG, useValue: loadConfig({ SYSTEM_TOKEN: 'spec-token-spec-token', OUTBOX_POLL_INTERVAL_MS: '60000' }) },
      ],
    }).compile();
    await moduleRef.init();
    outbox = moduleRef.get(Outbox);
    store = moduleRef.get(OutboxStore);
  });

  afterAll(async () => {
    await moduleRef?.close();
  });

  /** Jobs of the listed queue, some of one millisecond (stored at once), so the id has to break ties. */
  async function store5(tag: string): Promise<string[]> {
    const first = await Promise.all([0, 1, 2].map((n) => outbox.enqueue({ queue, lane: `${queue}:${tag}:${n}`, payload: { n } })));
    const more = [];
    for (const n of [3, 4]) more.push(await outbox.enqueue({ queue, lane: `${queue}:${tag}:${n}`, payload: { n } }));
    return [...first, ...more].map((job) => job._id.toHexString());
  }

  /** Every page of the listing, storing `meanwhile` jobs after the first page. */
  async function readAll(order: OutboxListOrder, meanwhile: () => Promise<unknown>): Promise<string[][]> {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await outbox.list(queue, { states: ['queued'] }, pageRequest({ order, cursor, limit: 2 }));
      pages.push(page.items.map((job) => job._id.toHexString()));
      if (pages.length === 1) await meanwhile();
      cursor = page.next ?? undefined;
    } while (cursor !== undefined);
    return pages;
  }

  it('pages through a queue newest first, and jobs stored meanwhile neither repeat nor shift the pages', async () => {
    const before = await store5('a');
    const all = await moduleRef.get<Model<OutboxJob>>(getModelToken(OutboxJob.name)).find({ queue }).sort({ createdAt: -1, _id: -1 }).lean();
    const newestFirst = all.map((job) => job._id.toHexString());
    expect(new Set(newestFirst)).toEqual(new Set(before));

    const pages = await readAll('newest', () => store5('b'));
    expect(pages).toEqual([newestFirst.slice(0, 2), newestFirst.slice(2, 4), newestFirst.slice(4)]);
  });

  it('pages oldest first on request, reaching the jobs stored meanwhile at the end', async () => {
    const pages = await readAll('oldest', () => store5('c'));
    const all = await moduleRef
      .get<Model<OutboxJob>>(getModelToken(OutboxJob.name))
      .find({ queue, state: 'queued' })
      .sort({ createdAt: 1, _id: 1 })
      .lean();
    expect(all).toHaveLength(15);
    expect(pages.flat()).toEqual(all.map((job) => job._id.toHexString()));
    expect(pages.slice(0, -1).every((page) => page.length === 2)).toBe(true);
  });

  it('pages parked jobs by when they were parked, newest first, with a cursor', async () => {
    const parked: string[] = [];
    for (const n of [0, 1, 2]) {
      const job = await outbox.enqueue({ queue, lane: `${queue}:parked:${n}`, payload: { n } });
      const claim = (await store.claim(job._id, 'spec', 30_000))!;
      await store.recordParked(claim, `refused ${n}`);
      parked.push(job._id.toHexString());
    }
    const first = await outbox.parked(queue, pageRequest({ limit: 2 }));
    expect(first.items.map((job) => job._id.toHexString())).toEqual([parked[2], parked[1]]);
    const second = await outbox.parked(queue, pageRequest({ limit: 2, cursor: first.next! }));
    expect(second.items.map((job) => job._id.toHexString())).toEqual([parked[0]]);
    expect(second.next).toBeNull();
    const oldest = await outbox.parked(queue, pageRequest({ order: 'oldest', limit: 5 }));
    expect(oldest.items.map((job) => job.lastError)).toEqual(['refused 0', 'refused 1', 'refused 2']);
  });

  it('has the indexes the listings sort on, and not the one the listing index replaced', async () => {
    const jobIndexes = await moduleRef.get<Model<OutboxJob>>(getModelToken(OutboxJob.name)).collection.indexes();
    expect(jobIndexes.find((index) => index.name === 'outbox_listing')?.key).toEqual({ queue: 1, state: 1, createdAt: 1, _id: 1 });
    expect(jobIndexes.map((index) => index.name)).not.toContain('outbox_queue_state');
    const markIndexes = await moduleRef.get<Model<OutboxParkedMark>>(getModelToken(OutboxParkedMark.name)).collection.indexes();
    expect(markIndexes.map((index) => index.name)).toEqual(expect.arrayContaining(['outbox_parked_at', 'outbox_parked_queue_at']));
  });
});
