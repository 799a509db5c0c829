// Benchmark (not a test): what taking a lane's next job costs with 10, 1,000 and 100,000 jobs queued behind it, on
// FerretDB v1 (started by scripts/servers.cjs). Each step is the outbox's own path: head lookup, claim insert,
// outcome, release, head move. Beside it, the lookup the old Notify worker made: the lane's queued jobs sorted by seq.
// Run with `npm run bench:outbox` (optionally `-- --depths 10,1000,100000 --take 50`).
import 'reflect-metadata';
import mongoose from 'mongoose';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutboxClaim, OutboxClaimSchema, OutboxJob, OutboxJobSchema, OutboxLaneMark, OutboxLaneMarkSchema } from '../src/outbox/outbox.schema';
import { OutboxStore } from '../src/outbox/outbox.store';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const servers = require('../scripts/servers.cjs') as { startFerretDb(): Promise<{ url: string; destroy(): Promise<void> }> };

function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

async function main(): Promise<void> {
  const depths = arg('depths', '10,1000,100000').split(',').map(Number);
  const take = Number(arg('take', '50'));
  const ferret = await servers.startFerretDb();
  const connection = await mongoose.createConnection(`${ferret.url.replace(/\/+$/, '')}/outboxbench`).asPromise();
  const jobs = connection.model(OutboxJob.name, OutboxJobSchema);
  const marks = connection.model(OutboxLaneMark.name, OutboxLaneMarkSchema);
  const claims = connection.model(OutboxClaim.name, OutboxClaimSchema);
  await Promise.all([jobs.createIndexes(), claims.createIndexes(), marks.createIndexes()]);
  const store = new OutboxStore(jobs, marks, claims);
  const results: Array<Record<string, number>> = [];

  for (const depth of depths) {
    const lane = `bench:lane:${depth}`;
    const queued = depth + take;
    for (let from = 0; from < queued; from += 5000) {
      const batch = Array.from({ length: Math.min(5000, queued - from) }, (_, index) => {
        const seq = from + index + 1;
        return {
          queue: 'bench',
          lane,
          seq,
          key: `bench:${depth}:${seq}`,
          payload: { seq },
          state: 'queued',
          attempts: 0,
          nextAttemptAt: new Date(0),
        };
      });
      await jobs.insertMany(batch, { ordered: false });
    }
    await marks.create({ _id: `head:${lane}`, value: 1 });
    await marks.create({ _id: `tail:${lane}`, value: queued });

    const outbox: number[] = [];
    for (let n = 0; n < take; n += 1) {
      const started = process.hrtime.bigint();
      const head = await store.headOf(lane);
      if (head.kind !== 'due') throw new Error(`lane ${lane} has no due head`);
      const claim = await store.claim(head.job._id, 'bench', 30_000);
      if (!claim) throw new Error('claim lost');
      await store.recordDone(claim, null);
      await store.release(claim);
      await store.advanceHead(lane, head.job.seq);
      outbox.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const sorted: number[] = [];
    for (let n = 0; n < Math.min(take, 10); n += 1) {
      const started = process.hrtime.bigint();
      await jobs.findOne({ lane, state: 'queued' }).sort({ seq: 1 }).lean();
      sorted.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const enqueue: number[] = [];
    for (let n = 0; n < 10; n += 1) {
      const started = process.hrtime.bigint();
      await store.enqueue({ queue: 'bench', lane, payload: {} });
      enqueue.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const row = {
      depth,
      takeMedianMs: median(outbox),
      takeP90Ms: percentile(outbox, 0.9),
      enqueueMedianMs: median(enqueue),
      oldSortedHeadMedianMs: median(sorted),
    };
    results.push(row);
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }

  mkdirSync(join(process.cwd(), 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(process.cwd(), 'bench', 'results', 'outbox-lane-depth.json'),
    JSON.stringify({ at: new Date().toISOString(), take, results }, null, 2),
  );
  await connection.close();
  await ferret.destroy();
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 10) / 10;
}

void main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
