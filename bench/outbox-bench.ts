// Benchmark (not a test): what taking a lane's next job costs with 10, 1,000, 10,000 and 100,000 jobs queued behind
// it, on FerretDB v1 (started by scripts/servers.cjs, as the tests start it). Each depth gets a database of its own,
// seeded with insertMany in batches. One "take" is the outbox worker's own per-job path: head lookup, claim insert,
// the still-holds check, outcome, release, head move. Beside it, in the same run: an enqueue, the poll and the
// gauges, and the two head lookups this store replaced (the old Notify worker's sort of the lane's queued jobs, and the
// previous outbox's `findOne({lane, seq})`, which FerretDB v1 also answers by reading every job).
// Then Notify end to end, with Herald as its own process (`node dist/main.js`: run `npm run build` after editing src/):
// N notifications accepted through POST /notify while the Discord stand-in fails every send, so they queue up in one
// channel's lane; then Discord recovers and the messages per second that reach it are timed.
// Then the lane-mark sweep on a history of finished one-job lanes (`--sweep`, 0 to skip): see laneSweep.
// Run with `npm run bench:outbox` (optionally `-- --depths 10,1000,10000,100000 --take 50 --sweep 10000 --notify 2000`).
// Writes bench/results/outbox-lane-depth.json.
import 'reflect-metadata';
import mongoose, { type Connection } from 'mongoose';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  OutboxClaim,
  OutboxClaimSchema,
  OutboxDueLane,
  OutboxDueLaneSchema,
  OutboxJob,
  OutboxJobSchema,
  OutboxKey,
  OutboxKeySchema,
  OutboxLaneMark,
  OutboxLaneMarkSchema,
  OutboxParkedMark,
  OutboxParkedMarkSchema,
} from '../src/outbox/outbox.schema';
import { jobIdAt, OutboxStore } from '../src/outbox/outbox.store';
import { startDiscordStandIn } from '../test/stand-ins/discord';

interface ServerHandle {
  url: string;
  destroy(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const servers = require('../scripts/servers.cjs') as {
  startFerretDb(options?: { variant?: string }): Promise<ServerHandle>;
  startS3(): Promise<ServerHandle & { accessKey: string; secretKey: string }>;
  freePort(): Promise<number>;
};

function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

const SEED_BATCH = 5000;

interface DepthRow {
  depth: number;
  seedSeconds: number;
  takeMedianMs: number;
  takeP90Ms: number;
  takeRatio: number;
  enqueueMedianMs: number;
  pollMedianMs: number;
  statsMedianMs: number;
  previousLaneSeqLookupMs: number;
  oldSortedHeadMs: number;
}

async function timed(runs: number, work: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let n = 0; n < runs; n += 1) {
    const started = process.hrtime.bigint();
    await work();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times;
}

function storeOn(connection: Connection): { store: OutboxStore; jobs: mongoose.Model<OutboxJob>; ready: Promise<unknown> } {
  const jobs = connection.model(OutboxJob.name, OutboxJobSchema);
  const models = [
    connection.model(OutboxLaneMark.name, OutboxLaneMarkSchema),
    connection.model(OutboxClaim.name, OutboxClaimSchema),
    connection.model(OutboxDueLane.name, OutboxDueLaneSchema),
    connection.model(OutboxKey.name, OutboxKeySchema),
    connection.model(OutboxParkedMark.name, OutboxParkedMarkSchema),
  ] as const;
  const store = new OutboxStore(jobs, ...models);
  return { store, jobs, ready: Promise.all([jobs.createIndexes(), ...models.map((model) => model.createIndexes())]) };
}

async function laneDepth(ferretUrl: string, depth: number, take: number): Promise<Omit<DepthRow, 'takeRatio'>> {
  const connection = await mongoose.createConnection(`${ferretUrl.replace(/\/+$/, '')}/outboxbench${depth}`).asPromise();
  try {
    await connection.dropDatabase();
    const { store, jobs, ready } = storeOn(connection);
    await ready;
    const lane = `bench:lane:${depth}`;
    const queued = depth + take;
    const seedStarted = Date.now();
    for (let from = 0; from < queued; from += SEED_BATCH) {
      const batch = Array.from({ length: Math.min(SEED_BATCH, queued - from) }, (_, index) => {
        const seq = from + index + 1;
        return {
          _id: jobIdAt(lane, seq),
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
      await jobs.insertMany(batch, { ordered: false, lean: true });
    }
    await connection.collection('outbox_lanes').insertMany([
      { _id: `head:${lane}` as never, value: 1 },
      { _id: `tail:${lane}` as never, value: queued },
    ]);
    await connection.collection('outbox_due_lanes').insertOne({ _id: lane as never, queue: 'bench', at: new Date(0) });
    const seedSeconds = (Date.now() - seedStarted) / 1000;

    // As Outbox.drainLane does it: the head, the claim, the job read again under the claim, the still-holds check,
    // the outcome and the head move (the first take reads the head mark, later ones start where the last one left it).
    let from: number | undefined;
    const takes = await timed(take, async () => {
      const head = await store.headOf(lane, new Date(), from);
      if (head.kind !== 'due') throw new Error(`lane ${lane} has no due head (${head.kind})`);
      const claim = await store.claim(head.job, 'bench', 30_000);
      if (!claim) throw new Error('claim lost');
      if ((await store.find(claim.jobId))?.state !== 'queued') throw new Error('job not queued');
      if (!(await store.stillHolds(claim))) throw new Error('claim not held');
      await store.recordDone(claim, null);
      await store.advanceHead(lane, head.job.seq);
      from = head.job.seq + 1;
    });
    const enqueues = await timed(10, () => store.enqueue({ queue: 'bench', lane, payload: {} }));
    const polls = await timed(5, () => store.lanesWithDueWork(['bench']));
    const stats = await timed(3, () => store.stats('bench'));
    // The replaced lookups read every job on FerretDB: a few runs are enough to see it, and keep 100,000 bounded.
    const slowRuns = depth >= 100_000 ? 2 : 5;
    const head = take + 1;
    const laneSeq = await timed(slowRuns, () => jobs.findOne({ lane, seq: head }).lean());
    const sorted = await timed(slowRuns, () => jobs.findOne({ lane, state: 'queued' }).sort({ seq: 1 }).lean());
    return {
      depth,
      seedSeconds: round(seedSeconds),
      takeMedianMs: percentile(takes, 0.5),
      takeP90Ms: percentile(takes, 0.9),
      enqueueMedianMs: percentile(enqueues, 0.5),
      pollMedianMs: percentile(polls, 0.5),
      statsMedianMs: percentile(stats, 0.5),
      previousLaneSeqLookupMs: percentile(laneSeq, 0.5),
      oldSortedHeadMs: percentile(sorted, 0.5),
    };
  } finally {
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  }
}

/**
 * The lane-mark sweep (ADR 0004) on a history of `lanes` finished one-job lanes, as the bot leaves one per message: what
 * an enqueue into a new lane costs with their marks stored, what each phase of the sweep takes (every batch until the
 * history is through, as Outbox.sweep runs them), and what the enqueue costs once the marks are gone: its baseline is
 * the same enqueue before the sweep, in the same database.
 */
async function laneSweep(ferretUrl: string, lanes: number) {
  const connection = await mongoose.createConnection(`${ferretUrl.replace(/\/+$/, '')}/outboxbenchsweep`).asPromise();
  try {
    await connection.dropDatabase();
    const { store, ready } = storeOn(connection);
    await ready;
    const finishedAt = new Date(Date.now() - 80 * 3_600_000);
    for (let from = 0; from < lanes; from += SEED_BATCH) {
      const count = Math.min(SEED_BATCH, lanes - from);
      const lane = (index: number) => `bench:history:${from + index}`;
      const jobs = Array.from({ length: count }, (_, index) => ({
        _id: jobIdAt(lane(index), 1),
        queue: 'bench',
        lane: lane(index),
        seq: 1,
        key: `bench:history:${from + index}`,
        payload: {},
        state: 'done',
        attempts: 1,
        nextAttemptAt: finishedAt,
        finishedAt,
      }));
      await connection.collection('outbox_jobs').insertMany(jobs, { ordered: false });
      const marks = Array.from({ length: count }, (_, index) => [
        { _id: `head:${lane(index)}`, value: 2 },
        { _id: `tail:${lane(index)}`, value: 1 },
      ]).flat();
      await connection.collection('outbox_lanes').insertMany(marks as never[], { ordered: false });
    }
    let fresh = 0;
    const enqueue = () => timed(10, () => store.enqueue({ queue: 'bench', lane: `bench:new:${(fresh += 1)}`, payload: {} }));
    const before = await enqueue();
    const marksBefore = await connection.collection('outbox_lanes').countDocuments();
    const cutoff = new Date(Date.now() - 72 * 3_600_000);
    const sweepAll = async (now: Date) => {
      const started = Date.now();
      for (;;) {
        const { examined } = await store.sweepFinished(['bench'], cutoff, 500, now);
        if (examined < 500) break;
      }
      return (Date.now() - started) / 1000;
    };
    const phase1Seconds = await sweepAll(new Date());
    const phase2Seconds = await sweepAll(new Date(Date.now() + 3_700_000));
    const after = await enqueue();
    return {
      lanes,
      marksBefore,
      marksAfter: await connection.collection('outbox_lanes').countDocuments(),
      jobsAfter: await connection.collection('outbox_jobs').countDocuments({ lane: { $regex: '^bench:history:' } }),
      enqueueBeforeMedianMs: percentile(before, 0.5),
      phase1Seconds: round(phase1Seconds),
      phase2Seconds: round(phase2Seconds),
      enqueueAfterMedianMs: percentile(after, 0.5),
      enqueueAfterVsBefore: round(percentile(after, 0.5) / percentile(before, 0.5)),
    };
  } finally {
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  }
}

/** N notifications queued in one channel while Discord fails, then timed out to the stand-in once it recovers. */
async function notifyDrain(ferretUrl: string, count: number) {
  const [s3, discord] = await Promise.all([servers.startS3(), startDiscordStandIn()]);
  const channel = discord.channels.builds.id;
  const systemToken = 'bench-system-token-0123456789abcdef';
  const port = await servers.freePort();
  const main = join(process.cwd(), 'dist', 'main.js');
  if (!existsSync(main)) execFileSync('npx', ['nest', 'build'], { stdio: 'inherit' });
  const herald = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      MONGODB_URI: `${ferretUrl.replace(/\/+$/, '')}/notifybench${Date.now()}`,
      S3_ENDPOINT: s3.url,
      S3_REGION: 'us-east-1',
      S3_BUCKET: 'herald-bench',
      S3_FORCE_PATH_STYLE: 'true',
      S3_CREATE_BUCKET: 'true',
      AWS_ACCESS_KEY_ID: s3.accessKey,
      AWS_SECRET_ACCESS_KEY: s3.secretKey,
      SYSTEM_TOKEN: systemToken,
      API_RATE_LIMITS: 'off',
      HERALD_ROLES: 'api',
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      OUTBOX_BACKOFF_BASE_MS: '100',
      OUTBOX_BACKOFF_MAX_MS: '1000',
      OUTBOX_POLL_INTERVAL_MS: '1000',
      BROWSER_EXECUTABLE_PATH: '/nonexistent/chromium',
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => herald.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  try {
    const started = Date.now();
    for (;;) {
      const live = await fetch(`${url}/health/live`).then(
        (response) => response.ok,
        () => false,
      );
      if (live) break;
      if (Date.now() - started > 120_000 || herald.exitCode !== null) throw new Error('Herald did not start');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    discord.failNext({ status: 503, times: 1_000_000_000, method: 'POST', path: `/channels/${channel}/messages` });

    const acceptStarted = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let index = next++; index < count; index = next++) {
          const response = await fetch(`${url}/notify`, {
            method: 'POST',
            headers: { authorization: `Bearer ${systemToken}`, 'content-type': 'application/json' },
            body: JSON.stringify({ channelId: channel, message: `deep ${index}` }),
          });
          if (response.status !== 202) throw new Error(`POST /notify answered ${response.status}: ${await response.text()}`);
        }
      }),
    );
    const acceptSeconds = (Date.now() - acceptStarted) / 1000;

    discord.clearFailures();
    const drainStarted = Date.now();
    const deadline = drainStarted + 60 * 60_000;
    while (discord.messages(channel).length < count) {
      if (Date.now() > deadline) throw new Error(`only ${discord.messages(channel).length} of ${count} arrived within an hour`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const drainSeconds = (Date.now() - drainStarted) / 1000;
    const arrived = discord.messages(channel).map((stored) => stored.message);
    const firstAt = Date.parse(arrived[0].timestamp);
    const lastAt = Date.parse(arrived[arrived.length - 1].timestamp);
    const distinct = new Set(arrived.map((message) => message.content)).size;
    if (arrived.length !== count || distinct !== count) throw new Error(`${arrived.length} messages arrived, ${distinct} distinct, of ${count}`);
    return {
      notifications: count,
      acceptPerSecond: round(count / acceptSeconds),
      drainSeconds: round(drainSeconds),
      messagesPerSecond: round((count - 1) / Math.max(0.001, (lastAt - firstAt) / 1000)),
      duplicates: arrived.length - distinct,
    };
  } finally {
    herald.kill('SIGTERM');
    await exited;
    await discord.stop();
    await s3.destroy();
  }
}

async function main(): Promise<void> {
  const depths = arg('depths', '10,1000,10000,100000').split(',').map(Number);
  const take = Number(arg('take', '50'));
  const notifyCount = Number(arg('notify', '2000'));
  const sweepLanes = Number(arg('sweep', '10000'));
  // `--ferretdb id-index`: FerretDB v1 built so that SQLite uses its `_id` index (scripts/servers.cjs), for comparison.
  const ferretdb = arg('ferretdb', 'stock');
  const ferret = await servers.startFerretDb({ variant: ferretdb });
  try {
    const rows: DepthRow[] = [];
    for (const depth of depths) {
      const row = await laneDepth(ferret.url, depth, take);
      const baseline = rows[0]?.takeMedianMs ?? row.takeMedianMs;
      rows.push({ ...row, takeRatio: round(row.takeMedianMs / baseline) });
      process.stdout.write(`${JSON.stringify(rows[rows.length - 1])}\n`);
    }
    const sweep = sweepLanes > 0 ? await laneSweep(ferret.url, sweepLanes) : null;
    if (sweep) process.stdout.write(`${JSON.stringify({ sweep })}\n`);
    const notify = notifyCount > 0 ? await notifyDrain(ferret.url, notifyCount) : null;
    if (notify) process.stdout.write(`${JSON.stringify({ notify })}\n`);

    const machine = { nproc: nproc(), cpuModel: cpus()[0]?.model ?? 'unknown', loadavg1m: round(loadavg()[0]), node: process.version, ferretdb };
    process.stdout.write(`\n${new Date().toISOString()} — ${machine.nproc} × ${machine.cpuModel}, load ${machine.loadavg1m}\n`);
    process.stdout.write(
      '| queued | take median ms | p90 | × vs 10 | enqueue ms | poll ms | gauges ms | previous {lane,seq} ms | old sorted head ms |\n',
    );
    process.stdout.write('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n');
    for (const row of rows) {
      process.stdout.write(
        `| ${row.depth.toLocaleString('en')} | ${row.takeMedianMs} | ${row.takeP90Ms} | ${row.takeRatio} | ${row.enqueueMedianMs} | ${row.pollMedianMs} | ${row.statsMedianMs} | ${row.previousLaneSeqLookupMs} | ${row.oldSortedHeadMs} |\n`,
      );
    }
    if (sweep) {
      process.stdout.write(
        `Lane-mark sweep: ${sweep.lanes} finished lanes (${sweep.marksBefore} marks): phase 1 ${sweep.phase1Seconds} s, phase 2 ${sweep.phase2Seconds} s, ${sweep.marksAfter} marks and ${sweep.jobsAfter} of their jobs left; an enqueue ${sweep.enqueueBeforeMedianMs} ms before, ${sweep.enqueueAfterMedianMs} ms after (${sweep.enqueueAfterVsBefore}×)\n`,
      );
    }
    if (notify) {
      process.stdout.write(
        `Notify: ${notify.notifications} accepted at ${notify.acceptPerSecond}/s, then drained at ${notify.messagesPerSecond} messages/s (${notify.drainSeconds} s), ${notify.duplicates} duplicates\n`,
      );
    }
    mkdirSync(join(process.cwd(), 'bench', 'results'), { recursive: true });
    writeFileSync(
      join(process.cwd(), 'bench', 'results', ferretdb === 'stock' ? 'outbox-lane-depth.json' : `outbox-lane-depth-${ferretdb}.json`),
      `${JSON.stringify({ at: new Date().toISOString(), machine, take, results: rows, sweep, notify }, null, 2)}\n`,
    );
  } finally {
    await ferret.destroy();
  }
}

function nproc(): number {
  try {
    return Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    return availableParallelism();
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
