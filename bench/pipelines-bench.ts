// Benchmark (not a test): what a user waits for, end to end, with Herald started as its own process (`node
// dist/main.js`) on FerretDB, S3 (versitygw) and RabbitMQ from scripts/servers.cjs, and the stand-ins of Discord, the
// backend, Drone and VK from test/stand-ins/. Herald is driven only through its public surfaces (the Discord gateway,
// HTTP, the VK long poll) and observed only where a user would see the result (the backend's callbacks, the Discord
// stand-in's REST log, the RabbitMQ queue), so the figures stay valid when Herald's internals change.
//
//   bot     gateway MESSAGE_CREATE/UPDATE/DELETE -> PNG in S3 -> backend callback; a steady 5/s with edits and
//           deletes mixed in, then a burst of 1,000; beside it, one render's p50 and the render throughput over
//           POST /render/discord-message on the same process; baseline: a new browser per message, one at a time
//   notify  POST /notify -> the message created at Discord, 20/s over three channels (order kept per channel), with and
//           without 429s; a burst; baseline: a new gateway login per message (as Kahuna did)
//   drone   created -> running -> success deliveries -> the message edited to its final state; 20 deliveries/s, then
//           50 builds at once; baseline: the record and the Discord call inside each request (as drone-discord did)
//   vk      long-poll update -> the event in its RabbitMQ queue; a steady rate and a burst; beside it, bench:vk's
//           in-process figures (normalise + route, RabbitMQ publishing) from a short run; baseline: VK lookups and
//           a publish per update straight from the long poll (as the toaster router did)
// "lost" counts what had not arrived when the wait ended (RUN.drainTimeoutMs after the phase): Herald keeps it durably
// and may deliver it later, so on a slow host it reads "not delivered in time".
// For each: p50/p95/p99 latency at the steady rate, the burst's drain rate, whether a steady run at 80% of it kept up
// (backlog not growing), peak RSS of Herald's Node process and the peak PSS of its Chromium processes.
//
// `npm run bench` (all), `npm run bench -- --quick` (about a third of the time), `--only bot,notify`, `--out <path>`,
// `--memory-limit 1Gi` (Herald in a memory cgroup), `--herald-cpus 0` (Herald on its own CPUs, the rest on the others).
// Uses dist/ (`npm run build` after editing src/; built here when missing). Writes bench/results/pipelines.json.
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { connect } from 'amqplib';
import { MongoClient } from 'mongodb';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Events, GatewayIntentBits, type TextChannel } from 'discord.js';
import { chromium } from 'playwright';
import { loadConfig } from '../src/config/config';
import { CHROMIUM_ARGS } from '../src/browser/browser-pool';
import { ImageFetcher } from '../src/browser/image-fetcher';
import { VIEWPORT, screenshotParams } from '../src/browser/template-renderer';
import { fetchMessageImages } from '../src/render/discord-message.images';
import { normaliseDiscordMessage } from '../src/render/discord-message.normaliser';
import { BackendReceiver } from '../test/stand-ins/backend/backend-receiver';
import { startDiscordStandIn, type DiscordStandIn } from '../test/stand-ins/discord';
import { droneBuildEvent, newBuildScenario, type BuildScenario } from '../test/stand-ins/drone/drone-payloads';
import { droneDelivery, postDroneDelivery } from '../test/stand-ins/drone/drone-signer';
import { envOf, parseDockerfile } from '../test/deploy/dockerfile';
import { VkStandIn } from '../test/stand-ins/vk/vk-stand-in';
import { chatPeer, messageNew } from '../test/stand-ins/vk/vk-updates';

// The checkout under test, from bench/run.mjs (the bundle's own place is the repo only when node_modules is not shared).
const ROOT = process.env.HERALD_BENCH_ROOT ?? resolve(__dirname, '..', '..', '..');
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : undefined);
const QUICK = argv.includes('--quick');
const ONLY = flag('only')?.split(',');
/** `--ferretdb id-index`: FerretDB v1 built so that SQLite uses its `_id` index (scripts/servers.cjs), for comparison. */
const FERRETDB = flag('ferretdb') ?? 'stock';
const OUT = resolve(ROOT, flag('out') ?? 'bench/results/pipelines.json');
const SYSTEM_TOKEN = `bench-system-${randomBytes(8).toString('hex')}`;
const BACKEND_TOKEN = `bench-backend-${randomBytes(8).toString('hex')}`;
const CHROMIUM = '/usr/bin/chromium';
/** NODE_OPTIONS from the Dockerfile's final stage, so the figures are the image's. */
const IMAGE_NODE_OPTIONS = (() => {
  const stages = parseDockerfile(resolve(ROOT, 'Dockerfile')).stages;
  const env = stages[stages.length - 1].instructions.filter((each) => each.keyword === 'ENV').map((each) => envOf(each.args));
  const merged: Record<string, string> = Object.assign({}, ...env) as Record<string, string>;
  return merged.NODE_OPTIONS ?? '';
})();

/** BENCH_HERALD_NODE_ARGS: flags for Herald's `node` before its script, e.g. V8 flags NODE_OPTIONS does not allow. */
const NODE_ARGS = (process.env.BENCH_HERALD_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** BENCH_HERALD_ENV: `NAME=value` pairs (space-separated) added to Herald's environment, e.g. an allocator's settings. */
const EXTRA_ENV: Record<string, string> = Object.fromEntries(
  (process.env.BENCH_HERALD_ENV ?? '')
    .split(' ')
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);

/** Durations and sizes; --quick is shorter and its bursts smaller (the bot's 200, not the 1,000 the targets name). */
const RUN = QUICK
  ? {
      steadySeconds: 8,
      sustainSeconds: 6,
      botBurst: 200,
      botHanging: 60,
      notifyBurst: 150,
      vkBurst: 500,
      renderSamples: 10,
      referenceSeconds: 4,
      botBaseline: 5,
      notifyBaseline: 3,
      drainTimeoutMs: 60_000,
    }
  : {
      steadySeconds: 30,
      sustainSeconds: 15,
      botBurst: 1000,
      botHanging: 200,
      notifyBurst: 1000,
      vkBurst: 3000,
      renderSamples: 40,
      referenceSeconds: 10,
      botBaseline: 20,
      notifyBaseline: 15,
      drainTimeoutMs: 120_000,
    };

interface ServerHandle {
  url: string;
  destroy(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const servers = require(join(ROOT, 'scripts', 'servers.cjs')) as {
  ensureInstalled(): unknown;
  startFerretDb(options?: { variant?: string; debugPort?: number }): Promise<ServerHandle & { metricsUrl?: string }>;
  startS3(): Promise<ServerHandle & { accessKey: string; secretKey: string }>;
  startRabbitMq(): Promise<ServerHandle>;
  freePort(): Promise<number>;
};

// ---------------------------------------------------------------------------------------------------------------
// Figures

interface Latency {
  n: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

function latency(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
  return { n: sorted.length, p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99), maxMs: sorted.at(-1) ?? NaN };
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function waitUntil(probe: () => boolean, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let said = Date.now();
  while (!probe()) {
    if (Date.now() > deadline) {
      process.stderr.write(`[bench] gave up waiting after ${timeoutMs / 1000} s: the missing ones count as lost\n`);
      return false;
    }
    if (Date.now() - said > 10_000) {
      said = Date.now();
      process.stderr.write('[bench] still waiting for the pipeline to catch up…\n');
    }
    await sleep(intervalMs);
  }
  return true;
}

/** Calls `tick(i)` at `perSecond` for `seconds`, open loop (a slow tick does not slow the schedule). */
async function atRate(perSecond: number, seconds: number, tick: (index: number) => void): Promise<number> {
  const total = Math.round(perSecond * seconds);
  const started = performance.now();
  for (let index = 0; index < total; index++) {
    const due = started + (index * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    tick(index);
  }
  return total;
}

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const TICK_MS = 10;

interface ProcessEntry {
  ppid: number;
  comm: string;
  /** CPU ms used so far (user + system). */
  cpuMs: number;
}

/** Every process on the host, from one pass over /proc. */
function processTable(): Map<number, ProcessEntry> {
  const table = new Map<number, ProcessEntry>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), {
        ppid: Number(fields[1]),
        comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
        cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS,
      });
    } catch {
      // exited between listing and reading
    }
  }
  return table;
}

/** The pids below `root` in the process tree (children, their children, …). */
function descendantsOf(root: number, table = processTable()): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

interface CpuSnapshot {
  /** CPU ms used so far by each part of the run. */
  byPart: Map<string, number>;
  /** The host's busy and total CPU ms so far, over all cores (other tenants of a shared host included). */
  hostBusyMs: number;
  hostTotalMs: number;
  /** With --herald-cpus: the same over Herald's CPUs only. */
  heraldCpusBusyMs: number;
  heraldCpusTotalMs: number;
}

/** Which part of the run a process is: Herald's Node process, its Chromium, or a server by name. */
function partOf(pid: number, comm: string, heraldPid: number, heraldTree: Set<number>): string {
  if (pid === heraldPid) return 'herald';
  if (heraldTree.has(pid)) return 'chromium';
  if (/ferret/i.test(comm)) return 'ferretdb';
  if (/versitygw|minio/i.test(comm)) return 's3';
  if (/beam|erl|epmd|rabbit/i.test(comm)) return 'rabbitmq';
  return comm;
}

function cpuSnapshot(heraldPid: number): CpuSnapshot {
  const byPart = new Map<string, number>();
  const table = processTable();
  const heraldTree = new Set(descendantsOf(heraldPid, table));
  for (const pid of descendantsOf(process.pid, table)) {
    const { comm, cpuMs } = table.get(pid) as ProcessEntry;
    const part = partOf(pid, comm, heraldPid, heraldTree);
    byPart.set(part, (byPart.get(part) ?? 0) + cpuMs);
  }
  const own = process.cpuUsage();
  byPart.set('bench (stand-ins)', (own.user + own.system) / 1000);
  // /proc/stat: "cpu" sums every core, "cpuN" is one; user nice system idle iowait irq softirq steal, in ticks.
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const ticks = (line: string): { busy: number; total: number } => {
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((sum, value) => sum + value, 0);
    return { busy: total - fields[3] - fields[4], total };
  };
  const host = ticks(lines[0]);
  const pinned = lines.filter((line) => HERALD_CPUS?.herald.some((cpu) => line.startsWith(`cpu${cpu} `))).map(ticks);
  return {
    byPart,
    hostBusyMs: host.busy * TICK_MS,
    hostTotalMs: host.total * TICK_MS,
    heraldCpusBusyMs: pinned.reduce((sum, each) => sum + each.busy, 0) * TICK_MS,
    heraldCpusTotalMs: pinned.reduce((sum, each) => sum + each.total, 0) * TICK_MS,
  };
}

interface CpuPer {
  /** CPU ms per item by part of the run, and their sum. */
  msPerItem: Record<string, number>;
  /** How busy the host's cores were meanwhile (1 = every core busy, whoever used it). */
  hostBusyShare: number;
  /** With --herald-cpus: how busy Herald's own CPUs were. */
  heraldCpusBusyShare?: number;
}

/**
 * CPU spent from now until `per` is called, per item: where a phase's cost goes on the host (Herald, Chromium, each
 * server, the stand-ins), and whether the host had any CPU left while it ran.
 */
function cpuWatch(heraldPid: number): { per(items: number): CpuPer } {
  const before = cpuSnapshot(heraldPid);
  return {
    per(items) {
      const after = cpuSnapshot(heraldPid);
      const msPerItem: Record<string, number> = {};
      for (const [part, ms] of after.byPart) {
        const spent = (ms - (before.byPart.get(part) ?? 0)) / items;
        if (spent > 0.05) msPerItem[part] = Math.round(spent * 10) / 10;
      }
      msPerItem.total = Math.round(Object.values(msPerItem).reduce((sum, ms) => sum + ms, 0) * 10) / 10;
      const share = (busy: number, total: number): number => (total > 0 ? Math.round((busy / total) * 100) / 100 : NaN);
      const hostBusyShare = share(after.hostBusyMs - before.hostBusyMs, after.hostTotalMs - before.hostTotalMs);
      if (!HERALD_CPUS) return { msPerItem, hostBusyShare };
      const heraldCpusBusyShare = share(after.heraldCpusBusyMs - before.heraldCpusBusyMs, after.heraldCpusTotalMs - before.heraldCpusTotalMs);
      return { msPerItem, hostBusyShare, heraldCpusBusyShare };
    },
  };
}

/** Herald's memory as its /metrics states it (prom-client's process figures), and where its resident pages are, in MiB. */
interface HeraldMemory {
  rssMb: number;
  heapTotalMb: number;
  heapUsedMb: number;
  externalMb: number;
  resident?: ResidentByKind;
}

/** A process's resident memory by kind of mapping, in MiB (from /proc/<pid>/smaps). */
interface ResidentByKind {
  /** Mapped from files: the Node binary, shared libraries, ICU data. */
  files: number;
  /** glibc malloc's arenas: the main one (`[heap]`) and the threads' (anonymous mappings at 64 MiB boundaries). */
  mallocArenas: number;
  /** Every other anonymous mapping: V8's heap pages and code, malloc's large blocks (mmapped alone), thread stacks. */
  otherAnonymous: number;
}

function residentByKind(pid: number): { resident?: ResidentByKind } {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return {};
  }
  const kinds: ResidentByKind = { files: 0, mallocArenas: 0, otherAnonymous: 0 };
  let kind: keyof ResidentByKind = 'otherAnonymous';
  for (const line of text.split('\n')) {
    const mapping = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (mapping) {
      const start = BigInt(`0x${mapping[1]}`);
      const [inode, name] = [mapping[2], mapping[3]];
      kind = inode !== '0' ? 'files' : name === '[heap]' || start % 2n ** 26n === 0n ? 'mallocArenas' : 'otherAnonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) kinds[kind] += Number(rss[1]) / 1024;
  }
  for (const key of Object.keys(kinds) as (keyof ResidentByKind)[]) kinds[key] = Math.round(kinds[key] * 10) / 10;
  return { resident: kinds };
}

/**
 * Peak memory of a Herald process while a pipeline runs: its own peak RSS (VmHWM, the kernel's high-water mark) and
 * the highest sum of PSS (shared pages split between sharers) over its Chromium descendants, sampled every second.
 */
class MemoryWatch {
  private chromiumPeak = 0;
  /** Herald's own figures (its /metrics) and its pages at the highest RSS seen: what the peak was made of. */
  private atRssPeak: HeraldMemory | undefined;
  /** The highest RSS seen by the sampler (VmRSS, read from /proc, which costs Herald nothing). */
  private rssPeakSeen = 0;
  private readonly timer: NodeJS.Timeout;

  /** `cgroupPeakBytes`: with --memory-limit, the peak of Herald and its Chromium together, as the cgroup counts them. */
  constructor(
    private readonly pid: number,
    private readonly metricsUrl: string,
    private readonly cgroupPeakBytes?: () => number,
  ) {
    this.timer = setInterval(() => {
      this.sample();
      void this.sampleHerald();
    }, 1000);
    this.timer.unref();
  }

  /**
   * Asks Herald for its heap figures only when its RSS reached a new high since the last sample, so the bench does not
   * scrape it every second through the run it measures (a scrape also reads Chromium's processes).
   */
  private async sampleHerald(): Promise<void> {
    let rss: number;
    try {
      rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1]);
    } catch {
      return; // exited
    }
    if (!(rss > this.rssPeakSeen)) return;
    this.rssPeakSeen = rss;
    const text = await fetch(this.metricsUrl)
      .then((response) => response.text())
      .catch(() => '');
    const read = (name: string) => mib(Number(new RegExp(`^herald_process_${name} (\\S+)$`, 'm').exec(text)?.[1]));
    const now: HeraldMemory = {
      rssMb: read('process_resident_memory_bytes'),
      heapTotalMb: read('nodejs_heap_size_total_bytes'),
      heapUsedMb: read('nodejs_heap_size_used_bytes'),
      externalMb: read('nodejs_external_memory_bytes'),
    };
    if (Number.isFinite(now.rssMb) && now.rssMb > (this.atRssPeak?.rssMb ?? 0)) this.atRssPeak = { ...now, ...residentByKind(this.pid) };
  }

  sample(): void {
    let pss = 0;
    for (const pid of descendantsOf(this.pid)) {
      try {
        const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
        pss += Number(match?.[1] ?? 0) * 1024;
      } catch {
        // a helper process that exited
      }
    }
    this.chromiumPeak = Math.max(this.chromiumPeak, pss);
  }

  /** Peak figures so far, in MiB. */
  peaks(): { heraldNodeRssMb: number; chromiumPssMb: number; cgroupPeakMb?: number; heraldAtRssPeak?: HeraldMemory } {
    this.sample();
    let hwm = NaN;
    try {
      hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'))?.[1]) * 1024;
    } catch {
      // exited
    }
    const cgroup = this.cgroupPeakBytes ? { cgroupPeakMb: mib(this.cgroupPeakBytes()) } : {};
    return { heraldNodeRssMb: mib(hwm), chromiumPssMb: mib(this.chromiumPeak), ...cgroup, heraldAtRssPeak: this.atRssPeak };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const mib = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

// ---------------------------------------------------------------------------------------------------------------
// Herald as a process

interface Herald {
  url: string;
  pid: number;
  memory: MemoryWatch;
  stop(): Promise<void>;
}

const MAIN = join(ROOT, 'dist', 'main.js');

function ensureBuilt(): void {
  if (existsSync(MAIN)) return;
  process.stderr.write('[bench] dist/main.js is missing: building it (npx nest build)\n');
  execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * `--memory-limit 1Gi`: Herald (and the Chromium it starts) run in a memory cgroup with that limit, as in a pod whose
 * container has it (deploy/kubernetes/base/discord.yaml: 1Gi). Node sizes V8's heap from the limit it finds (on this
 * 24 GB host without one, V8 lets the heap grow to 4 GiB before it must collect), so Herald's peak RSS is then the
 * deployment's. Needs a writable cgroup hierarchy (v2, or v1's memory controller), as root has here.
 */
const MEMORY_LIMIT = (() => {
  const given = flag('memory-limit');
  if (!given) return undefined;
  const match = /^(\d+)(Mi|Gi)?$/.exec(given);
  if (!match) throw new Error(`--memory-limit ${given}: give bytes, or a number with Mi or Gi`);
  return Number(match[1]) * (match[2] === 'Gi' ? 2 ** 30 : match[2] === 'Mi' ? 2 ** 20 : 1);
})();

/**
 * `--herald-cpus 0`: Herald and the Chromium it starts run on these CPUs only, and this process (the stand-ins, the
 * load) with FerretDB, S3 and RabbitMQ on the rest (`taskset`; children inherit it): a replica with cores of its own and
 * its dependencies on other machines' cores, as deployed. Without it everything shares the host, the database's CPU
 * included. The bot's baseline (the old render service, run inside this process; its cost is its browsers) moves to
 * Herald's CPUs while it runs; the other baselines (HTTP and gateway clients) stay beside the stand-ins.
 */
const HERALD_CPUS = (() => {
  const given = flag('herald-cpus');
  if (!given) return undefined;
  const expand = (list: string): number[] =>
    list.split(',').flatMap((part) => {
      const [from, to = from] = part.split('-').map(Number);
      if (!Number.isInteger(from) || !Number.isInteger(to) || to < from) throw new Error(`--herald-cpus ${given}: give CPUs as 0 or 0,2 or 0-1`);
      return Array.from({ length: to - from + 1 }, (_, index) => from + index);
    });
  // "pid 123's current affinity list: 0,1"
  const affinity = (() => {
    try {
      return execFileSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
    } catch (error) {
      throw new Error(`--herald-cpus needs taskset (util-linux) and a kernel that lets it pin: ${(error as Error).message}`, { cause: error });
    }
  })();
  const allowed = expand(affinity.split(':').pop()?.trim() ?? '');
  const herald = expand(given);
  const rest = allowed.filter((cpu) => !herald.includes(cpu));
  if (herald.some((cpu) => !allowed.includes(cpu)) || rest.length === 0) {
    throw new Error(`--herald-cpus ${given}: give some of the CPUs this process may use (${allowed.join(',')}), not all of them`);
  }
  return { herald, rest };
})();

/** Moves every thread of this process (and what it starts from now on) to these CPUs. */
function pinSelf(cpus: number[]): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus.join(','), String(process.pid)], { stdio: 'ignore' });
}

/** A memory cgroup with MEMORY_LIMIT: the file a process writes its pid to join it, its peak usage, and its removal. */
function memoryCgroup(limit: number): { procs: string; peakBytes: () => number; remove: () => void } {
  const name = `herald-bench-${process.pid}-${Date.now()}`;
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const dir = v2 ? join('/sys/fs/cgroup', name) : join('/sys/fs/cgroup/memory', name);
  mkdirSync(dir);
  writeFileSync(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(limit));
  return {
    procs: join(dir, 'cgroup.procs'),
    peakBytes: () => Number(readFileSync(join(dir, v2 ? 'memory.peak' : 'memory.max_usage_in_bytes'), 'utf8').trim()),
    remove: () => rmdirSync(dir),
  };
}

/** `node dist/main.js` with only this environment (and PATH, HOME), as an operator runs it; resolves once it is ready. */
async function startHerald(env: Record<string, string>): Promise<Herald> {
  const port = await servers.freePort();
  const cgroup = MEMORY_LIMIT === undefined ? undefined : memoryCgroup(MEMORY_LIMIT);
  // In a cgroup, a shell joins it and then becomes Node (same pid), so V8 is sized inside the limit from its start.
  const [command, args] = cgroup
    ? ['/bin/sh', ['-c', `echo $$ > ${cgroup.procs} && exec "$0" "$@"`, process.execPath, ...NODE_ARGS, MAIN]]
    : [process.execPath, [...NODE_ARGS, MAIN]];
  // taskset execs the command: the same pid, and Chromium inherits the CPUs.
  const [pinnedCommand, pinnedArgs] = HERALD_CPUS ? ['taskset', ['-c', HERALD_CPUS.herald.join(','), command, ...args]] : [command, args];
  const child: ChildProcess = spawn(pinnedCommand, pinnedArgs, {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      SYSTEM_TOKEN,
      API_RATE_LIMITS: 'off',
      LOG_LEVEL: 'warn',
      // The V8 flags the image runs Herald with (its ENV NODE_OPTIONS); BENCH_HERALD_NODE_OPTIONS replaces them.
      NODE_OPTIONS: process.env.BENCH_HERALD_NODE_OPTIONS ?? IMAGE_NODE_OPTIONS,
      ...EXTRA_ENV,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The last of what it printed, for the error when it does not start.
  let stderr = '';
  const keep = (chunk: Buffer): void => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // BENCH_HERALD_LOG=<file>: everything Herald prints, for finding out why a phase did not drain.
  const logFile = process.env.BENCH_HERALD_LOG;
  if (logFile) {
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = `http://127.0.0.1:${port}`;
  const ready = await waitUntilAsync(async () => {
    if (child.exitCode !== null) throw new Error(`Herald exited with ${child.exitCode}:\n${stderr}`);
    return (await fetch(`${url}/health/ready`).catch(() => undefined))?.ok === true;
  }, 180_000);
  if (!ready) {
    child.kill('SIGKILL');
    throw new Error(`Herald was not ready within 180 s:\n${stderr}`);
  }
  const pid = child.pid as number;
  return {
    url,
    pid,
    memory: new MemoryWatch(pid, `${url}/metrics`, cgroup?.peakBytes),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      // Chromium's last processes may take a moment to leave the group.
      for (let tries = 0; cgroup && tries < 50; tries += 1) {
        try {
          cgroup.remove();
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
  };
}

/**
 * Commands FerretDB was sent so far, by command (its `ferretdb_client_requests_total`), without the drivers'
 * heartbeats. Counted on the database's side, so Herald runs without command monitoring (which costs it CPU).
 */
async function mongoCommandsSent(infra: Infra): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (!infra.mongoMetrics) return counts;
  const text = await (await fetch(infra.mongoMetrics)).text();
  for (const line of text.split('\n')) {
    const match = /^ferretdb_client_requests_total\{.*command="([^"]+)".*\} (\d+)$/.exec(line);
    if (match && !HEARTBEATS.has(match[1])) counts.set(match[1], (counts.get(match[1]) ?? 0) + Number(match[2]));
  }
  return counts;
}

const HEARTBEATS = new Set(['hello', 'isMaster', 'ismaster', 'ping', 'buildInfo', 'buildinfo', 'getParameter', 'endSessions']);

type CommandsPer = { total: number; byCommand: Record<string, number> };

interface CostPer {
  mongoCommands: CommandsPer;
  cpu: CpuPer;
}

/**
 * Starts counting what a phase costs: `per(items)` answers FerretDB's commands sent since, largest first, and the CPU
 * used since by each part of the run, both per item of work.
 */
async function watchCost(infra: Infra, heraldPid: number): Promise<{ per(items: number): Promise<CostPer> }> {
  const before = await mongoCommandsSent(infra);
  const cpu = cpuWatch(heraldPid);
  return {
    async per(items) {
      const used = cpu.per(items);
      const after = await mongoCommandsSent(infra);
      const spent = [...after]
        .map(([command, count]) => [command, (count - (before.get(command) ?? 0)) / items] as const)
        .filter(([, per]) => per > 0);
      spent.sort((a, b) => b[1] - a[1]);
      return { mongoCommands: { total: spent.reduce((sum, [, per]) => sum + per, 0), byCommand: Object.fromEntries(spent) }, cpu: used };
    },
  };
}

/** A burst of events: how many, its drain rate, latency, how many did not arrive, its MongoDB commands and CPU per event. */
function burstResult(keys: string[], perSecond: number, settled: { latencies: number[]; missing: number }, cost: CostPer): Record<string, unknown> {
  return {
    events: keys.length,
    perSecond,
    latency: latency(settled.latencies),
    lost: settled.missing,
    mongoCommandsPerEvent: cost.mongoCommands,
    cpu: cost.cpu,
  };
}

/** Where a phase's keys stand after waiting (at most timeoutMs) for all of them: latency of each arrived one, how many
 * are missing, and when the last one arrived. */
async function settleKeys(
  keys: string[],
  arrived: () => Map<string, number>,
  sentAt: (key: string) => number | undefined,
  timeoutMs: number,
  intervalMs: number,
): Promise<{ latencies: number[]; missing: number; lastAt: number }> {
  await waitUntil(
    () => {
      const got = arrived();
      return keys.every((key) => got.has(key));
    },
    timeoutMs,
    intervalMs,
  );
  const got = arrived();
  const latencies = keys.filter((key) => got.has(key) && sentAt(key) !== undefined).map((key) => (got.get(key) as number) - (sentAt(key) as number));
  return { latencies, missing: keys.filter((key) => !got.has(key)).length, lastAt: Math.max(...keys.map((key) => got.get(key) ?? 0)) };
}

/** A rate held for `seconds`: its latencies, what had not arrived after the wait, and whether it was kept up (a backlog
 * at the end of under two seconds of work). */
function rateResult(
  perSecond: number,
  seconds: number,
  settled: { latencies: number[]; missing: number },
  backlogAtEnd: number,
): { perSecond: number; seconds: number; latency: Latency; lost: number; backlogAtEnd: number; keptUp: boolean } {
  return { perSecond, seconds, latency: latency(settled.latencies), lost: settled.missing, backlogAtEnd, keptUp: backlogAtEnd <= perSecond * 2 };
}

async function waitUntilAsync(probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

interface Infra {
  mongo: string;
  /** FerretDB's own Prometheus metrics (every command it was sent, by command). */
  mongoMetrics?: string;
  s3: { url: string; accessKey: string; secretKey: string };
  amqp?: string;
}

/** A database of its own. */
function mongoEnv(infra: Infra): Record<string, string> {
  return { MONGODB_URI: `${infra.mongo.replace(/\/+$/, '')}/bench${randomBytes(4).toString('hex')}` };
}

/** A database and a bucket of its own. */
function storageEnv(infra: Infra): Record<string, string> {
  return {
    ...mongoEnv(infra),
    S3_ENDPOINT: infra.s3.url,
    S3_BUCKET: `bench-${randomBytes(4).toString('hex')}`,
    S3_FORCE_PATH_STYLE: 'true',
    S3_CREATE_BUCKET: 'true',
    AWS_ACCESS_KEY_ID: infra.s3.accessKey,
    AWS_SECRET_ACCESS_KEY: infra.s3.secretKey,
  };
}

/** How long the bot's phase with a backend that answers nothing may take to draw its messages. */
const HANGING_WINDOW_MS = 90_000;

/** No S3 and no Chromium for pipelines that draw nothing (S3 settings would switch the render endpoints on). */
const NO_BROWSER = { BROWSER_EXECUTABLE_PATH: '/nonexistent/chromium' };

// ---------------------------------------------------------------------------------------------------------------
// bot

const WORDS = 'deploy finished ok thanks looks good see the **logs** for `build` details and https://example.com/ci/run ~~old~~ *soon*'.split(' ');
const text = (index: number): string =>
  `#${index} ${Array.from({ length: 6 + (index % 14) }, (_, i) => WORDS[(index * 7 + i) % WORDS.length]).join(' ')}`;

async function benchBot(infra: Infra): Promise<Record<string, unknown>> {
  const discord = await startDiscordStandIn({ heartbeatIntervalMs: 15_000 });
  const backend = await BackendReceiver.start(BACKEND_TOKEN);
  const storage = storageEnv(infra);
  const herald = await startHerald({
    ...storage,
    HERALD_ROLES: 'api,discord',
    DISCORD_TOKEN: discord.token,
    DISCORD_RENDER_MESSAGES: 'true',
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_CDN_URL: discord.cdnUrl,
    RENDER_FETCH_ALLOWLIST: new URL(discord.cdnUrl).host,
    BACKEND_URL: backend.url,
    BACKEND_TOKEN,
  });
  const channelId = discord.channels.general.id;
  const people = [discord.users.alice, discord.users.bob, discord.users.carol];
  try {
    await discord.waitForIdentify(1);
    /** When each gateway event went out, by `${messageId}:${event}`. */
    const sent = new Map<string, number>();
    const arrived = (): Map<string, number> => {
      const out = new Map<string, number>();
      for (const { body, at } of backend.accepted) {
        const key = `${body.messageId}:${body.event}`;
        if (!out.has(key)) out.set(key, at.getTime());
      }
      return out;
    };
    const created: string[] = [];
    const edited = new Set<string>();
    const deleted = new Set<string>();
    let counter = 0;
    const post = (): void => {
      const index = counter++;
      const at = Date.now();
      const message = discord.messageCreate({ channelId, author: people[index % people.length], content: text(index) });
      sent.set(`${message.id}:created`, at);
      created.push(message.id);
    };
    const done = (id: string, event: string): boolean => backend.accepted.some(({ body }) => body.messageId === id && body.event === event);
    const editOne = (): boolean => {
      const id = created.find((candidate) => !edited.has(candidate) && !deleted.has(candidate) && done(candidate, 'created'));
      if (!id) return false;
      edited.add(id);
      sent.set(`${id}:updated`, Date.now());
      discord.messageUpdate(channelId, id, { content: `${text(counter++)} (edited)`, editedAt: new Date() });
      return true;
    };
    const deleteOne = (): boolean => {
      const id = created.find((candidate) => edited.has(candidate) && !deleted.has(candidate) && done(candidate, 'updated'));
      if (!id) return false;
      deleted.add(id);
      sent.set(`${id}:deleted`, Date.now());
      discord.messageDelete(channelId, id);
      return true;
    };
    const settle = (keys: string[]) => settleKeys(keys, arrived, (key) => sent.get(key), RUN.drainTimeoutMs, 200);

    // One render's p50 and the render throughput, over HTTP on the same process (unique content: no cache hit).
    process.stderr.write('[bench] bot: reference renders over POST /render/discord-message\n');
    const alice = discord.users.alice;
    const renderBody = (index: number) => ({
      author: { name: 'Alice', avatarUrl: `${discord.cdnUrl}/avatars/${alice.id}/${alice.avatar}.png` },
      content: `${text(index)} r${randomBytes(4).toString('hex')}`,
      timestamp: new Date().toISOString(),
    });
    const renderOnce = async (index: number): Promise<number> => {
      const t0 = performance.now();
      const response = await fetch(`${herald.url}/render/discord-message`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SYSTEM_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(renderBody(index)),
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`POST /render/discord-message answered ${response.status}`);
      return performance.now() - t0;
    };
    // The render throughput: four at a time for RUN.referenceSeconds (renders begun by then are counted). Until
    // 2026-11-30 08:44 UTC a pass was 80 renders, about 2 s: on this shared host two passes of one run differed by up
    // to 49% (39.7 and 26.7/s with Herald on one CPU), where the burst it is compared with lasts ~30 s.
    const renderThroughput = async (first: number): Promise<{ perSecond: number; renders: number }> => {
      const started = performance.now();
      const until = started + RUN.referenceSeconds * 1000;
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (performance.now() < until) await renderOnce(first + next++);
        }),
      );
      return { perSecond: (next * 1000) / (performance.now() - started), renders: next };
    };
    // Warm-up, timed but not the reference: the first pass after start-up ran ~25% slower than the next one in
    // 2026-11-30's runs (start-up work, every page's first renders, JIT), and until then it was the reference.
    for (let i = 0; i < 6; i++) await renderOnce(i);
    const cold = await renderThroughput(10_000);
    const renderC1: number[] = [];
    for (let i = 0; i < RUN.renderSamples; i++) renderC1.push(await renderOnce(100 + i));
    const renderCpu = cpuWatch(herald.pid);
    const warm = await renderThroughput(20_000);
    const render = { c1: latency(renderC1), c4PerSecond: warm.perSecond, c4PerSecondCold: cold.perSecond, cpu: renderCpu.per(warm.renders) };

    // Steady 5/s: 8 of 10 new messages, 1 edit, 1 delete (of a message already edited and called back).
    process.stderr.write(`[bench] bot: steady 5/s for ${RUN.steadySeconds} s\n`);
    const steadyStart = sent.size;
    await atRate(5, RUN.steadySeconds, (index) => {
      if (index % 10 === 4 && editOne()) return;
      if (index % 10 === 9 && deleteOne()) return;
      post();
    });
    const steadyKeys = [...sent.keys()].slice(steadyStart);
    const steady = await settle(steadyKeys);
    const byEvent = (event: string) =>
      latency(
        steadyKeys
          .filter((key) => key.endsWith(`:${event}`))
          .flatMap((key) => {
            const at = arrived().get(key);
            return at === undefined ? [] : [at - (sent.get(key) as number)];
          }),
      );

    // A burst: messages dispatched as fast as the gateway takes them, with edits and deletes of earlier messages.
    process.stderr.write(`[bench] bot: burst of ${RUN.botBurst}\n`);
    const burstStart = sent.size;
    const cost = await watchCost(infra, herald.pid);
    const burstBegan = Date.now();
    for (let index = 0; index < RUN.botBurst; index++) {
      if (index % 25 === 12 && editOne()) continue;
      if (index % 25 === 24 && deleteOne()) continue;
      post();
    }
    const burstKeys = [...sent.keys()].slice(burstStart);
    const burst = await settle(burstKeys);
    const burstPerSecond = (burstKeys.length * 1000) / (burst.lastAt - burstBegan);
    const burstCost = await cost.per(burstKeys.length);
    // The reference again, right after the burst, on a process as warm as the burst's: the burst is judged against
    // the faster of the two (the host is shared; the faster is the nearer to what it can render).
    const renderAfterBurst = (await renderThroughput(30_000)).perSecond;
    const referencePerSecond = Math.max(render.c4PerSecond, renderAfterBurst);

    // Sustained: 80% of the burst's drain rate for a while; kept up when the backlog at the end is under 2 s of work.
    const sustainRate = Math.max(1, Math.floor(burstPerSecond * 0.8));
    process.stderr.write(`[bench] bot: sustained ${sustainRate}/s for ${RUN.sustainSeconds} s\n`);
    const sustainStart = sent.size;
    await atRate(sustainRate, RUN.sustainSeconds, () => post());
    const sustainKeys = [...sent.keys()].slice(sustainStart);
    const backlogAtEnd = sustainKeys.length - sustainKeys.filter((key) => arrived().has(key)).length;
    const sustain = await settle(sustainKeys);
    const memory = herald.memory.peaks();
    const parts = memory.heraldAtRssPeak;
    if (parts) {
      process.stderr.write(
        `[bench] bot: at Herald's highest RSS it reported (${parts.rssMb} MiB): V8 heap ${parts.heapTotalMb} MiB committed, ` +
          `${parts.heapUsedMb} used; external (buffers) ${parts.externalMb} MiB\n`,
      );
    }

    // The backend misbehaving while messages arrive: images stored (counted from Herald's /metrics) beside the
    // callbacks that wait for it, and every callback delivered once it is well again.
    const imagesDone = async (): Promise<number> => {
      const text = await (await fetch(`${herald.url}/metrics`)).text();
      const match = /^herald_outbox_attempts_total\{[^}]*queue="discord-images"[^}]*outcome="done"[^}]*\} (\d+)/m.exec(text);
      return match ? Number(match[1]) : 0;
    };
    const whileBackend = async (how: string, misbehave: () => void, recover: () => void) => {
      process.stderr.write(`[bench] bot: ${RUN.botHanging} messages while the backend ${how} (at most ${HANGING_WINDOW_MS / 1000} s)\n`);
      misbehave();
      const before = await imagesDone();
      const start = sent.size;
      const began = Date.now();
      for (let index = 0; index < RUN.botHanging; index++) post();
      const keys = [...sent.keys()].slice(start);
      let at = 0;
      await waitUntilAsync(async () => {
        at = Date.now();
        return (await imagesDone()) - before >= keys.length;
      }, HANGING_WINDOW_MS);
      const stored = (await imagesDone()) - before;
      recover();
      // A callback that failed waits its backoff (up to OUTBOX_BACKOFF_MAX_MS, 60 s) before it is tried again.
      const settled = await settleKeys(keys, arrived, (key) => sent.get(key), RUN.drainTimeoutMs + 60_000, 500);
      const figures = {
        messages: keys.length,
        imagesStored: stored,
        seconds: (at - began) / 1000,
        imagesPerSecond: (stored * 1000) / (at - began),
        callbacksLost: settled.missing,
      };
      process.stderr.write(
        `[bench] bot: backend ${how}: ${stored} of ${keys.length} images in ${figures.seconds.toFixed(1)} s ` +
          `(${figures.imagesPerSecond.toFixed(1)}/s); once it was well, ${settled.missing} callbacks missing\n`,
      );
      return figures;
    };
    // Each call waits for Herald's 10 s timeout.
    const hanging = await whileBackend(
      'answers nothing',
      () => backend.hold({}),
      () => backend.release(),
    );
    // Every callback taken, but answered only after 2 s.
    const slowBackend = await whileBackend(
      'answers each callback after 2 s',
      () => backend.answerAfter(2000),
      () => backend.answerAfter(0),
    );

    const duplicates = backend.accepted.length - new Set(backend.accepted.map(({ body }) => body.idempotencyKey)).size;
    const result = {
      render: { ...render, c4PerSecondAfterBurst: renderAfterBurst, referencePerSecond },
      steady: {
        perSecond: 5,
        seconds: RUN.steadySeconds,
        events: steadyKeys.length,
        latency: latency(steady.latencies),
        byEvent: { created: byEvent('created'), updated: byEvent('updated'), deleted: byEvent('deleted') },
        lost: steady.missing,
      },
      burst: burstResult(burstKeys, burstPerSecond, burst, burstCost),
      sustained: rateResult(sustainRate, RUN.sustainSeconds, sustain, backlogAtEnd),
      backendHanging: hanging,
      backendSlow: slowBackend,
      duplicateCallbacks: duplicates,
      memory,
    };
    herald.memory.stop();
    await herald.stop();

    // Baseline: the render service's way: a new browser per message, rendered one at a time under a lock.
    process.stderr.write(`[bench] bot: baseline (new browser per message, one at a time), ${RUN.botBaseline} messages at 5/s\n`);
    const baselineBackend = await BackendReceiver.start(BACKEND_TOKEN);
    // With --herald-cpus the old service gets Herald's CPUs (its browsers inherit them), its stand-ins with it.
    if (HERALD_CPUS) pinSelf(HERALD_CPUS.herald);
    const baseline = await botBaseline(discord, infra, baselineBackend, people).finally(() => HERALD_CPUS && pinSelf(HERALD_CPUS.rest));
    await baselineBackend.stop();
    return {
      ...result,
      baseline,
      ratios: {
        steadyP50VsOneRenderP50: result.steady.latency.p50Ms / render.c1.p50Ms,
        // Against the faster of the two warm references (before and after the burst): the host is shared, and the
        // faster one is the nearer to what it can render.
        burstRateVsRenderThroughput: burstPerSecond / referencePerSecond,
        burstRateVsRenderThroughputBefore: burstPerSecond / render.c4PerSecond,
        burstRateVsRenderThroughputAfter: burstPerSecond / renderAfterBurst,
        burstRateVsColdRenderThroughput: burstPerSecond / render.c4PerSecondCold,
        p50VsBaselineP50: result.steady.latency.p50Ms / baseline.latency.p50Ms,
        burstRateVsBaselineRate: burstPerSecond / baseline.perSecond,
        // CPU a message costs in the burst against what one reference render costs, on the whole run (Herald, its
        // Chromium, the servers, the stand-ins): where the host's cores are all busy in both, this bounds the burst's
        // rate against the render throughput whatever the pipeline does around the render.
        burstCpuPerEventVsRenderCpu: burstCost.cpu.msPerItem.total / render.cpu.msPerItem.total,
      },
      targets: {
        'steady 5/s p50 <= 2x one render p50': result.steady.latency.p50Ms <= 2 * render.c1.p50Ms,
        'burst cleared at >= 0.8x render throughput': burstPerSecond >= 0.8 * referencePerSecond,
        'nothing lost': steady.missing + burst.missing + sustain.missing + hanging.callbacksLost + slowBackend.callbacksLost === 0,
        // The issue's 300 MB, in bytes (286.1 MiB; the figures are printed in MiB).
        'peak RSS of the Node process <= 300 MB': memory.heraldNodeRssMb * 1048576 <= 300e6,
      },
    };
  } finally {
    await herald.stop();
    await backend.stop();
    await discord.stop();
  }
}

/**
 * The render service's way: the bot hears the message, and under one lock launches Chromium, opens the template,
 * draws the message, screenshots it, closes the browser, stores the PNG and calls the backend. Same template, same
 * S3, same backend receiver; latency from dispatch to the callback.
 */
async function botBaseline(
  discord: DiscordStandIn,
  infra: Infra,
  backend: BackendReceiver,
  people: Array<{ id: string; username: string; avatar?: string | null }>,
): Promise<{ messages: number; perSecond: number; latency: Latency; lost: number }> {
  const bucket = `bench-baseline-${randomBytes(4).toString('hex')}`;
  const s3 = new S3Client({
    endpoint: infra.s3.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: infra.s3.accessKey, secretAccessKey: infra.s3.secretKey },
  });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const fetcher = new ImageFetcher(loadConfig({ SYSTEM_TOKEN, RENDER_FETCH_ALLOWLIST: new URL(discord.cdnUrl).host, LOG_LEVEL: 'error' }));
  // The built template under static/ (src's STATIC_DIR would resolve from the bundle's folder).
  const templateUrl = pathToFileURL(join(ROOT, 'static', 'discord-message', 'index.html')).href;
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: { api: discord.apiUrl, cdn: discord.cdnUrl },
  });
  const ready = new Promise((done) => client.once(Events.ClientReady, done));
  await client.login(discord.token);
  await ready;
  let lock: Promise<void> = Promise.resolve();
  client.on(Events.MessageCreate, (message) => {
    if (message.author.id === client.user?.id) return;
    lock = lock
      .then(async () => {
        const view = await fetchMessageImages(
          normaliseDiscordMessage(
            {
              author: { name: message.author.username, avatarUrl: message.author.displayAvatarURL({ extension: 'png', size: 128 }) },
              content: message.content,
              timestamp: message.createdAt.toISOString(),
            },
            { now: new Date() },
          ),
          (source) => fetcher.fetchInline(source),
        );
        const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
        let png: Buffer;
        try {
          const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
          const page = await context.newPage();
          await page.goto(templateUrl, { waitUntil: 'load' });
          await page.waitForFunction(() => typeof (window as unknown as { herald?: { render?: unknown } }).herald?.render === 'function');
          const size = await page.evaluate(
            (input) => (window as unknown as { herald: { render(v: unknown): Promise<{ width: number; height: number }> } }).herald.render(input),
            view as unknown,
          );
          const session = await context.newCDPSession(page);
          const { data } = await session.send('Page.captureScreenshot', screenshotParams(size));
          png = Buffer.from(data, 'base64');
        } finally {
          await browser.close();
        }
        const key = `discord/${message.guildId}/${message.channelId}/${message.id}.png`;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: png, ContentType: 'image/png' }));
        await fetch(backend.url, {
          method: 'POST',
          headers: { authorization: `Bearer ${BACKEND_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ event: 'created', idempotencyKey: `${message.id}:created`, messageId: message.id, urn: `s3://${bucket}/${key}` }),
        });
      })
      .catch((error: unknown) => {
        process.stderr.write(`[bench] baseline render failed: ${String(error)}\n`);
      });
  });
  try {
    const sent = new Map<string, number>();
    const began = Date.now();
    await atRate(5, RUN.botBaseline / 5, (index) => {
      const at = Date.now();
      const message = discord.messageCreate({
        channelId: discord.channels.general.id,
        author: people[index % people.length] as never,
        content: text(5000 + index),
      });
      sent.set(message.id, at);
    });
    await waitUntil(() => [...sent.keys()].every((id) => backend.accepted.some(({ body }) => body.messageId === id)), RUN.drainTimeoutMs, 200);
    const got = new Map(backend.accepted.map(({ body, at }) => [body.messageId, at.getTime()]));
    const latencies = [...sent].filter(([id]) => got.has(id)).map(([id, at]) => (got.get(id) as number) - at);
    const lastAt = Math.max(...[...got.values()]);
    return {
      messages: sent.size,
      perSecond: (latencies.length * 1000) / (lastAt - began),
      latency: latency(latencies),
      lost: sent.size - latencies.length,
    };
  } finally {
    await client.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// notify

async function benchNotify(infra: Infra): Promise<Record<string, unknown>> {
  const discord = await startDiscordStandIn({ heartbeatIntervalMs: 15_000 });
  const herald = await startHerald({
    ...mongoEnv(infra),
    ...NO_BROWSER,
    HERALD_ROLES: 'api',
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
  });
  const channels = [discord.channels.general.id, discord.channels.announcements.id, discord.channels.builds.id];
  const tag = randomBytes(3).toString('hex');
  let counter = 0;
  /** Send time and channel of each notification, by its content. */
  const sent = new Map<string, { at: number; channel: string }>();
  const sentOrder = new Map<string, string[]>(channels.map((channel) => [channel, []]));
  const chains = new Map<string, Promise<void>>();
  let refused = 0;
  /** One client per channel sending in order: the next POST of a channel goes once the previous one is accepted. */
  const notify = (channel: string): void => {
    const content = `n-${tag}-${counter++}`;
    const previous = chains.get(channel) ?? Promise.resolve();
    chains.set(
      channel,
      previous.then(async () => {
        sent.set(content, { at: Date.now(), channel });
        (sentOrder.get(channel) as string[]).push(content);
        const response = await fetch(`${herald.url}/notify`, {
          method: 'POST',
          headers: { authorization: `Bearer ${SYSTEM_TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ channelId: channel, content }),
        });
        await response.arrayBuffer();
        if (response.status !== 202) refused++;
      }),
    );
  };
  const createdAt = (): Map<string, number> => {
    const out = new Map<string, number>();
    for (const request of discord.requests) {
      if (request.method !== 'POST' || request.status !== 200 || !/^\/channels\/\d+\/messages$/.test(request.path)) continue;
      const content = (request.json as { content?: string } | undefined)?.content;
      if (content?.startsWith(`n-${tag}-`) && !out.has(content)) out.set(content, request.at.getTime());
    }
    return out;
  };
  const settle = async (keys: string[]) => {
    const deadline = Date.now() + RUN.drainTimeoutMs;
    // The clients' own sending first (each channel in order), bounded by the same wait.
    await Promise.race([Promise.all(chains.values()), sleep(RUN.drainTimeoutMs)]);
    return settleKeys(keys, createdAt, (key) => sent.get(key)?.at, Math.max(0, deadline - Date.now()), 100);
  };
  const phase = async (name: string, perSecond: number, seconds: number, with429s: boolean) => {
    process.stderr.write(`[bench] notify: ${name}, ${perSecond}/s for ${seconds} s${with429s ? ', a 429 every second' : ''}\n`);
    const first = counter;
    const failing = with429s
      ? setInterval(() => discord.failNext({ status: 429, times: 1, retryAfter: 1, method: 'POST', path: /^\/channels\/\d+\/messages$/ }), 1000)
      : undefined;
    const began = Date.now();
    await atRate(perSecond, seconds, (index) => notify(channels[index % channels.length]));
    // The 429s come with the load: left on while the backlog drains, a new one every second would meet the one
    // request still waiting out the last (retry_after 1 s) again and again, a rate limit no Discord keeps up.
    clearInterval(failing);
    const keys = Array.from({ length: counter - first }, (_, i) => `n-${tag}-${first + i}`);
    const backlogAtEnd = keys.length - keys.filter((key) => createdAt().has(key)).length;
    const settled = await settle(keys);
    // What the clients managed to offer: each channel's POSTs wait for the one before (order), so a slow answer slows them.
    const accepted = keys.filter((key) => sent.has(key)).length;
    const offeredPerSecond = (accepted * 1000) / (Math.max(...keys.map((key) => sent.get(key)?.at ?? 0)) - began || 1);
    return { ...rateResult(perSecond, seconds, settled, backlogAtEnd), offeredPerSecond, sent: keys.length };
  };
  try {
    await atRate(20, 1, (index) => notify(channels[index % channels.length])); // warm
    await settle([...sent.keys()]);
    const steady = await phase('steady', 20, RUN.steadySeconds, false);
    const with429s = await phase('steady with 429s', 20, RUN.steadySeconds, true);

    process.stderr.write(`[bench] notify: burst of ${RUN.notifyBurst}\n`);
    const first = counter;
    const cost = await watchCost(infra, herald.pid);
    const began = Date.now();
    for (let index = 0; index < RUN.notifyBurst; index++) notify(channels[index % channels.length]);
    const burstKeys = Array.from({ length: RUN.notifyBurst }, (_, i) => `n-${tag}-${first + i}`);
    const burstSettled = await settle(burstKeys);
    const burstPerSecond = (burstKeys.length * 1000) / (burstSettled.lastAt - began);
    const burstCost = await cost.per(burstKeys.length);
    const sustained = await phase('sustained', Math.max(1, Math.floor(burstPerSecond * 0.8)), RUN.sustainSeconds, false);

    // Order per channel: the messages Discord got, in the order it got them, against the order they were sent.
    const got = createdAt();
    const orderKept = channels.every((channel) => {
      const sentInChannel = (sentOrder.get(channel) as string[]).filter((content) => got.has(content));
      const arrivedInChannel = [...sentInChannel].sort((a, b) => (got.get(a) as number) - (got.get(b) as number));
      return sentInChannel.every((content, index) => arrivedInChannel[index] === content);
    });
    const memory = herald.memory.peaks();
    herald.memory.stop();
    await herald.stop();

    // Baseline: Kahuna's way, a new gateway login per message.
    process.stderr.write(`[bench] notify: baseline (new gateway login per message), ${RUN.notifyBaseline} messages\n`);
    const baselineLatencies: number[] = [];
    const baselineBegan = performance.now();
    for (let index = 0; index < RUN.notifyBaseline; index++) {
      const t0 = performance.now();
      const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: discord.apiUrl } });
      const ready = new Promise((done) => client.once(Events.ClientReady, done));
      await client.login(discord.token);
      await ready;
      const channel = (await client.channels.fetch(channels[index % channels.length])) as TextChannel;
      await channel.send({ content: `baseline-${tag}-${index}` });
      await client.destroy();
      baselineLatencies.push(performance.now() - t0);
    }
    const baseline = {
      messages: RUN.notifyBaseline,
      perSecond: (RUN.notifyBaseline * 1000) / (performance.now() - baselineBegan),
      latency: latency(baselineLatencies),
    };
    return {
      steady,
      with429s,
      burst: burstResult(burstKeys, burstPerSecond, burstSettled, burstCost),
      sustained,
      orderKeptPerChannel: orderKept,
      refusedRequests: refused,
      memory,
      baseline,
      ratios: { p50VsBaselineP50: steady.latency.p50Ms / baseline.latency.p50Ms, burstRateVsBaselineRate: burstPerSecond / baseline.perSecond },
      targets: {
        'p50 <= 100 ms at 20/s': steady.latency.p50Ms <= 100,
        'p50 <= 100 ms at 20/s with 429s': with429s.latency.p50Ms <= 100,
        'nothing lost': steady.lost + with429s.lost + burstSettled.missing + sustained.lost === 0 && refused === 0,
        'order per channel kept': orderKept,
      },
    };
  } finally {
    await herald.stop();
    await discord.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// drone

const DRONE_SECRET = 'bench-drone-secret-0123456789';
const STATUS_EMOJI = { pending: '⏳', running: '🔄', success: '✅' } as const;
type Stage = keyof typeof STATUS_EMOJI;

/** One build as Drone reports it: created, running a second later, success a second after that. */
async function buildFlow(build: BuildScenario, deliver: (build: BuildScenario, stage: Stage) => Promise<void>): Promise<void> {
  await deliver(build, 'pending');
  await sleep(1000);
  await deliver(build, 'running');
  await sleep(1000);
  await deliver(build, 'success');
}

async function benchDrone(infra: Infra): Promise<Record<string, unknown>> {
  const discord = await startDiscordStandIn({ heartbeatIntervalMs: 15_000 });
  const channel = discord.channels.builds.id;
  const herald = await startHerald({
    ...mongoEnv(infra),
    ...NO_BROWSER,
    HERALD_ROLES: 'api',
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
    DRONE_WEBHOOK_SECRET: DRONE_SECRET,
    DRONE_CHANNEL_ID: channel,
  });
  const webhook = `${herald.url}/drone/webhook`;
  /** When each delivery went out, by `${slug}#${number} ${stage}`. */
  const sent = new Map<string, number>();
  const key = (build: BuildScenario, stage: Stage): string => `${build.slug}#${build.buildNumber} ${stage}`;
  let failedDeliveries = 0;
  let queuedDeliveries = 0;
  const deliver = async (build: BuildScenario, stage: Stage): Promise<void> => {
    const payload = droneBuildEvent(build, stage === 'running' ? { status: 'running', progress: 1 } : { status: stage });
    sent.set(key(build, stage), Date.now());
    const answer = await postDroneDelivery(webhook, droneDelivery(payload, { secret: DRONE_SECRET }));
    // 200: shown already; 202: stored, shown as soon as its lane gets to it (Herald answers after 5 s at most).
    if (answer.status === 202) queuedDeliveries++;
    else if (answer.status !== 200) failedDeliveries++;
  };
  /** When Discord first got a message body showing each build in each state. */
  const shown = (): Map<string, number> => {
    const out = new Map<string, number>();
    for (const request of discord.requests) {
      if (request.status !== 200 || !(request.method === 'POST' || request.method === 'PATCH')) continue;
      const title = (request.json as { embeds?: Array<{ title?: string }> } | undefined)?.embeds?.[0]?.title;
      const match = title && /^(\S+) (\S+ #\d+)$/.exec(title);
      if (!match) continue;
      const stage = (Object.keys(STATUS_EMOJI) as Stage[]).find((candidate) => STATUS_EMOJI[candidate] === match[1]);
      if (stage && !out.has(`${match[2].replace(' #', '#')} ${stage}`)) out.set(`${match[2].replace(' #', '#')} ${stage}`, request.at.getTime());
    }
    return out;
  };
  const settle = (keys: string[]) => settleKeys(keys, shown, (key) => sent.get(key), RUN.drainTimeoutMs, 100);
  /** Each build: created, running a second later, success a second after that; builds start at perSecond / 3. */
  const steadyRun = async (perSecond: number, seconds: number) => {
    const builds: BuildScenario[] = [];
    const flows: Array<Promise<void>> = [];
    await atRate(perSecond / 3, seconds, () => {
      const build = newBuildScenario();
      builds.push(build);
      flows.push(buildFlow(build, deliver));
    });
    await Promise.race([Promise.all(flows), sleep(RUN.drainTimeoutMs)]);
    const keys = builds.flatMap((build) => (['pending', 'running', 'success'] as Stage[]).map((stage) => key(build, stage)));
    const backlogAtEnd = keys.length - keys.filter((k) => shown().has(k)).length;
    const settled = await settle(keys);
    return { builds, deliveries: keys.length, settled, latency: latency(settled.latencies), lost: settled.missing, backlogAtEnd };
  };
  try {
    process.stderr.write('[bench] drone: warm-up\n');
    await steadyRun(6, 1);
    process.stderr.write(`[bench] drone: steady 20 deliveries/s for ${RUN.steadySeconds} s\n`);
    const steady = await steadyRun(20, RUN.steadySeconds);

    process.stderr.write('[bench] drone: 50 builds at once\n');
    const builds = Array.from({ length: 50 }, () => newBuildScenario());
    const cost = await watchCost(infra, herald.pid);
    const began = Date.now();
    await Promise.race([
      Promise.all(
        builds.map(async (build) => {
          await deliver(build, 'pending');
          await deliver(build, 'running');
          await deliver(build, 'success');
        }),
      ),
      sleep(RUN.drainTimeoutMs),
    ]);
    const finalKeys = builds.map((build) => key(build, 'success'));
    const burstSettled = await settle(finalKeys);
    const burstCost = await cost.per(builds.length * 3);
    const endToEnd = builds.map((build) => (shown().get(key(build, 'success')) ?? NaN) - (sent.get(key(build, 'pending')) as number));
    const oneMessagePerBuild = builds.every(
      (build) =>
        discord.messages(channel).filter(({ message }) => message.embeds?.[0]?.title?.endsWith(` ${build.slug} #${build.buildNumber}`)).length === 1,
    );
    const finalState = builds.every((build) =>
      discord.messages(channel).some(({ message }) => message.embeds?.[0]?.title === `✅ ${build.slug} #${build.buildNumber}`),
    );
    const burstPerSecond = (builds.length * 3 * 1000) / (burstSettled.lastAt - began);
    const sustainRate = Math.max(3, Math.floor(burstPerSecond * 0.8));
    process.stderr.write(`[bench] drone: sustained ${sustainRate} deliveries/s for ${RUN.sustainSeconds} s\n`);
    const sustained = await steadyRun(sustainRate, RUN.sustainSeconds);
    const memory = herald.memory.peaks();
    process.stderr.write(
      `[bench] drone: baseline (drone-discord's way: the record and Discord inside each request), 20/s for ${RUN.steadySeconds} s\n`,
    );
    const baseline = await droneBaseline(infra, discord, channel);
    return {
      steady: { perSecond: 20, seconds: RUN.steadySeconds, deliveries: steady.deliveries, latency: steady.latency, lost: steady.lost },
      fiftyAtOnce: {
        builds: 50,
        createdToFinalMessage: latency(endToEnd),
        successDeliveryToFinalMessage: latency(burstSettled.latencies),
        clearedInMs: burstSettled.lastAt - began,
        deliveriesPerSecond: burstPerSecond,
        mongoCommandsPerDelivery: burstCost.mongoCommands,
        cpu: burstCost.cpu,
        oneMessagePerBuild,
        finalState,
      },
      sustained: rateResult(sustainRate, RUN.sustainSeconds, sustained.settled, sustained.backlogAtEnd),
      failedDeliveries,
      queuedDeliveries,
      memory,
      baseline,
      ratios: { p50VsBaselineP50: steady.latency.p50Ms / baseline.latency.p50Ms },
      targets: {
        'p50 <= 100 ms at 20/s': steady.latency.p50Ms <= 100,
        'nothing lost': steady.lost + burstSettled.missing + sustained.lost === 0 && failedDeliveries === 0,
        'one message per build, final state shown': oneMessagePerBuild && finalState,
      },
    };
  } finally {
    herald.memory.stop();
    await herald.stop();
    await discord.stop();
  }
}

/**
 * The system Herald replaces, drone-discord (docs/migrating/drone-discord.md): a Flask service that handled each
 * delivery inside its request: read the build's record in MongoDB (by repository and number), post the build's
 * message to Discord or edit it, store the record, answer. Same builds and rate as Herald's steady phase, against the
 * same Discord stand-in and FerretDB; timed from the delivery to Discord's answer (the request's own answer). No
 * queue, no retry: a Discord or MongoDB failure in the request loses that update, which is what Herald's outbox adds.
 */
async function droneBaseline(
  infra: Infra,
  discord: DiscordStandIn,
  channel: string,
): Promise<{ perSecond: number; seconds: number; deliveries: number; latency: Latency; failed: number }> {
  const client = await MongoClient.connect(mongoEnv(infra).MONGODB_URI);
  const records = client.db().collection<{ repo: string; build: number; messageId: string }>('builds');
  const latencies: number[] = [];
  let failed = 0;
  const handle = async (build: BuildScenario, stage: Stage): Promise<void> => {
    const began = Date.now();
    try {
      const record = await records.findOne({ repo: build.slug, build: build.buildNumber });
      const messages = `${discord.apiUrl}/v10/channels/${channel}/messages`;
      const answer = await fetch(record ? `${messages}/${record.messageId}` : messages, {
        method: record ? 'PATCH' : 'POST',
        headers: { authorization: `Bot ${discord.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ embeds: [{ title: `${STATUS_EMOJI[stage]} ${build.slug} #${build.buildNumber} (baseline)` }] }),
      });
      if (!answer.ok) throw new Error(`Discord answered ${answer.status}`);
      const message = (await answer.json()) as { id: string };
      if (!record) await records.insertOne({ repo: build.slug, build: build.buildNumber, messageId: message.id });
      latencies.push(Date.now() - began);
    } catch {
      failed++;
    }
  };
  try {
    const flows: Array<Promise<void>> = [];
    await atRate(20 / 3, RUN.steadySeconds, () => {
      const build = newBuildScenario();
      flows.push(buildFlow(build, handle));
    });
    await Promise.all(flows);
    return { perSecond: 20, seconds: RUN.steadySeconds, deliveries: latencies.length + failed, latency: latency(latencies), failed };
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// vk

async function benchVk(infra: Infra): Promise<Record<string, unknown>> {
  const peers = 20;
  const vk = await VkStandIn.start({
    users: [{ id: 1001, first_name: 'Ivan', last_name: 'Petrov', screen_name: 'ipetrov' }],
    conversations: Array.from({ length: peers }, (_, i) => ({
      peer: { id: chatPeer(i + 1), type: 'chat' as const, local_id: i + 1 },
      chat_settings: { title: `Chat ${i + 1}` },
    })),
  });
  const queue = `bench.vk.${randomBytes(3).toString('hex')}`;
  const routes = join(mkdtempSync(join(tmpdir(), 'herald-bench-vk-')), 'routes.json');
  writeFileSync(routes, JSON.stringify({ destinations: { bench: { type: 'amqp', queue } }, routes: [{ event_type: 'message', to: 'bench' }] }));
  const herald = await startHerald({
    ...mongoEnv(infra),
    ...NO_BROWSER,
    HERALD_ROLES: 'api,vk',
    VK_TOKEN: vk.token,
    VK_GROUP_ID: String(vk.groupId),
    VK_API_URL: vk.apiUrl,
    VK_ROUTES_FILE: routes,
    AMQP_URL: infra.amqp as string,
  });
  const connection = await connect(infra.amqp as string);
  const channel = await connection.createChannel();
  await channel.assertQueue(queue, { durable: true });
  const received = new Map<string, number>();
  await channel.consume(queue, (message) => {
    if (!message) return;
    const event = JSON.parse(message.content.toString('utf8')) as { message?: { text?: string } };
    if (event.message?.text && !received.has(event.message.text)) received.set(event.message.text, Date.now());
    channel.ack(message);
  });
  const sent = new Map<string, number>();
  let counter = 0;
  const push = (count = 1): void => {
    const updates = Array.from({ length: count }, () => {
      const index = counter++;
      sent.set(`vk-${index}`, Date.now());
      return messageNew({ peerId: chatPeer((index % peers) + 1), fromId: 1001, cmid: index + 1, text: `vk-${index}` });
    });
    vk.push(...updates);
  };
  const settle = (keys: string[]) =>
    settleKeys(
      keys,
      () => received,
      (key) => sent.get(key),
      RUN.drainTimeoutMs,
      50,
    );
  const phase = async (perSecond: number, seconds: number) => {
    const first = counter;
    await atRate(perSecond, seconds, () => push());
    const keys = Array.from({ length: counter - first }, (_, i) => `vk-${first + i}`);
    const backlogAtEnd = keys.length - keys.filter((k) => received.has(k)).length;
    const settled = await settle(keys);
    return { ...rateResult(perSecond, seconds, settled, backlogAtEnd), events: keys.length };
  };
  try {
    await phase(20, 1); // warm
    process.stderr.write(`[bench] vk: steady 20/s for ${RUN.steadySeconds} s\n`);
    const steady = await phase(20, RUN.steadySeconds);
    process.stderr.write(`[bench] vk: burst of ${RUN.vkBurst}\n`);
    const first = counter;
    const cost = await watchCost(infra, herald.pid);
    const began = Date.now();
    for (let i = 0; i < RUN.vkBurst; i += 100) push(Math.min(100, RUN.vkBurst - i));
    const burstKeys = Array.from({ length: RUN.vkBurst }, (_, i) => `vk-${first + i}`);
    const burst = await settle(burstKeys);
    const burstPerSecond = (burstKeys.length * 1000) / (burst.lastAt - began);
    const burstCost = await cost.per(burstKeys.length);
    const sustainRate = Math.max(1, Math.floor(burstPerSecond * 0.8));
    process.stderr.write(`[bench] vk: sustained ${sustainRate}/s for ${RUN.sustainSeconds} s\n`);
    const sustained = await phase(sustainRate, RUN.sustainSeconds);
    const memory = herald.memory.peaks();
    herald.memory.stop();
    await herald.stop();

    process.stderr.write(
      `[bench] vk: baseline (the toaster router's way: two VK lookups and a publish per update), 20/s for ${RUN.steadySeconds} s\n`,
    );
    const router = await routerBaseline(vk, infra.amqp as string, queue);
    const baseline = await phase(20, RUN.steadySeconds).finally(() => router.stop());

    // bench:vk's in-process figures on the same machine, short: the ceiling of the components the pipeline chains.
    process.stderr.write('[bench] vk: bench:vk (in-process components), short run\n');
    const componentsOut = join(mkdtempSync(join(tmpdir(), 'herald-bench-vkc-')), 'vk.json');
    const components = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bench', 'run.mjs'),
        'vk',
        '--events',
        QUICK ? '5000' : '10000',
        '--rounds',
        '3',
        '--deliveries',
        QUICK ? '1000' : '3000',
        '--out',
        componentsOut,
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const inProcess =
      components.status === 0
        ? (JSON.parse(readFileSync(componentsOut, 'utf8')) as { eventsPerSecond: unknown; deliveries: { eventsPerSecond: unknown } })
        : undefined;
    return {
      steady,
      burst: burstResult(burstKeys, burstPerSecond, burst, burstCost),
      sustained,
      memory,
      benchVk: inProcess
        ? { eventsPerSecond: inProcess.eventsPerSecond, deliveriesPerSecond: inProcess.deliveries.eventsPerSecond }
        : { failed: `bench:vk exited ${components.status}` },
      baseline: { ...baseline, lookupsFailed: router.failed() },
      ratios: { p50VsBaselineP50: steady.latency.p50Ms / baseline.latency.p50Ms },
      targets: { 'nothing lost': steady.lost + burst.missing + sustained.lost === 0 },
    };
  } finally {
    await connection.close().catch(() => undefined);
    await herald.stop();
    await vk.close();
  }
}

/**
 * The system Herald replaces, the toaster event router (docs/migrating/toaster-router.md), in its RabbitMQ version:
 * one long poll, and for each update in turn the user (`users.get`) and the conversation
 * (`messages.getConversationsById`) looked up in VK, the event published to its queue, the next update. It also read
 * each message back (`messages.getByConversationMessageId`), which the stand-in does not serve, so this baseline is
 * one VK call per event cheaper than the router was. Nothing is stored: an update whose publish fails is gone.
 */
async function routerBaseline(vk: VkStandIn, amqpUrl: string, queue: string): Promise<{ stop(): Promise<void>; failed(): number }> {
  const connection = await connect(amqpUrl);
  const channel = await connection.createConfirmChannel();
  const stopped = new AbortController();
  let failed = 0;
  const api = async <T>(method: string, params: Record<string, string>): Promise<T> => {
    const body = new URLSearchParams({ ...params, access_token: vk.token, v: '5.199' });
    const answer = (await (await fetch(`${vk.apiUrl}/${method}`, { method: 'POST', body })).json()) as { response?: T; error?: unknown };
    if (answer.response === undefined) throw new Error(`${method}: ${JSON.stringify(answer.error)}`);
    return answer.response;
  };
  const server = () => api<{ server: string; key: string; ts: string | number }>('groups.getLongPollServer', { group_id: String(vk.groupId) });
  let poll = await server();
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      const url = `${poll.server}?act=a_check&key=${poll.key}&ts=${poll.ts}&wait=10`;
      const answer = (await fetch(url, { signal: stopped.signal })
        .then((response) => response.json())
        .catch(() => null)) as { ts?: string; failed?: number; updates?: Array<{ type: string; object: { message?: VkMessage } }> } | null;
      if (!answer) continue;
      if (answer.failed) {
        poll = answer.failed === 1 ? { ...poll, ts: answer.ts as string } : await server();
        continue;
      }
      poll.ts = answer.ts as string;
      for (const update of answer.updates ?? []) {
        const message = update.object.message;
        if (update.type !== 'message_new' || !message) continue;
        try {
          const [user] = await api<unknown[]>('users.get', { user_ids: String(message.from_id), fields: 'domain' });
          const peer = await api<{ items: unknown[] }>('messages.getConversationsById', {
            peer_ids: String(message.peer_id),
            group_id: String(vk.groupId),
          });
          const event = { event_type: 'message', peer: peer.items[0], user, message: { text: message.text, cmid: message.conversation_message_id } };
          channel.sendToQueue(queue, Buffer.from(JSON.stringify(event)), { persistent: true });
          await channel.waitForConfirms();
        } catch {
          failed++;
        }
      }
    }
  })();
  return {
    stop: async () => {
      stopped.abort();
      await loop;
      await connection.close().catch(() => undefined);
    },
    failed: () => failed,
  };
}

interface VkMessage {
  from_id: number;
  peer_id: number;
  text: string;
  conversation_message_id: number;
}

// ---------------------------------------------------------------------------------------------------------------

const PIPELINES: Record<string, (infra: Infra) => Promise<Record<string, unknown>>> = {
  bot: benchBot,
  notify: benchNotify,
  drone: benchDrone,
  vk: benchVk,
};

const r1 = (value: unknown): string => (typeof value === 'number' && Number.isFinite(value) ? (Math.round(value * 10) / 10).toString() : '—');

function printTable(results: Record<string, Record<string, unknown>>): void {
  const rows: string[][] = [];
  const lat = (value: unknown): Latency => value as Latency;
  const get = (result: Record<string, unknown>, path: string): unknown =>
    path.split('.').reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], result);
  for (const [name, result] of Object.entries(results)) {
    const steady = lat(get(result, 'steady.latency'));
    const steadyRate = get(result, 'steady.perSecond');
    const burstRate = get(result, name === 'drone' ? 'fiftyAtOnce.deliveriesPerSecond' : 'burst.perSecond');
    rows.push([
      name,
      `${r1(steadyRate)}/s`,
      r1(steady?.p50Ms),
      r1(steady?.p95Ms),
      r1(steady?.p99Ms),
      r1(burstRate),
      `${r1(get(result, 'sustained.perSecond'))} ${get(result, 'sustained.keptUp') ? 'yes' : 'NO'}`,
      r1(get(result, 'memory.heraldNodeRssMb')),
      r1(get(result, 'memory.chromiumPssMb')),
    ]);
    if (name === 'notify') {
      const with429s = lat(get(result, 'with429s.latency'));
      rows.push(['notify, 429 every s', '20/s', r1(with429s.p50Ms), r1(with429s.p95Ms), r1(with429s.p99Ms), '', '', '', '']);
    }
    const baseline = get(result, 'baseline') as { perSecond: number; latency: Latency } | null;
    if (baseline)
      rows.push([
        `${name} baseline`,
        '',
        r1(baseline.latency.p50Ms),
        r1(baseline.latency.p95Ms),
        r1(baseline.latency.p99Ms),
        r1(baseline.perSecond),
        '',
        '',
        '',
      ]);
  }
  const header = [
    'pipeline',
    'steady',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'burst /s',
    'sustained (kept up)',
    'node peak RSS MiB',
    'chromium peak PSS MiB',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  process.stdout.write(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
  for (const [name, result] of Object.entries(results)) {
    for (const [target, met] of Object.entries((result.targets ?? {}) as Record<string, boolean>))
      process.stdout.write(`${name}: ${met ? 'met    ' : 'NOT met'}  ${target}\n`);
    if (result.ratios)
      process.stdout.write(
        `${name} ratios: ${JSON.stringify(result.ratios, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v))}\n`,
      );
    const cpu = (phase: unknown): CpuPer | undefined => (phase as { cpu?: CpuPer } | undefined)?.cpu;
    for (const [phase, label] of [
      [result.render, 'per reference render'],
      [result.burst, 'per event in the burst'],
      [result.fiftyAtOnce, 'per delivery of the fifty builds'],
    ] as const) {
      const figures = cpu(phase);
      if (figures)
        process.stdout.write(
          `${name} CPU ms ${label}: ${JSON.stringify(figures.msPerItem)}, host busy ${figures.hostBusyShare}${
            figures.heraldCpusBusyShare === undefined ? '' : `, Herald's CPUs busy ${figures.heraldCpusBusyShare}`
          }\n`,
        );
    }
  }
}

async function main(): Promise<void> {
  const names = Object.keys(PIPELINES).filter((name) => !ONLY || ONLY.includes(name));
  ensureBuilt();
  servers.ensureInstalled();
  if (HERALD_CPUS) pinSelf(HERALD_CPUS.rest);
  const [ferret, s3, rabbit] = await Promise.all([
    servers.startFerretDb({ variant: FERRETDB, debugPort: await servers.freePort() }),
    servers.startS3(),
    names.includes('vk') ? servers.startRabbitMq() : undefined,
  ]);
  const infra: Infra = {
    mongo: ferret.url,
    mongoMetrics: ferret.metricsUrl,
    s3: { url: s3.url, accessKey: s3.accessKey, secretKey: s3.secretKey },
    amqp: rabbit?.url,
  };
  const started = new Date();
  const loadBefore = loadavg();
  const results: Record<string, Record<string, unknown>> = {};
  /** Written after every pipeline (and when stopped), so a run cut short still leaves the figures it has. */
  const writeReport = (complete: boolean): void => {
    const report = {
      benchmark: 'pipelines',
      date: started.toISOString(),
      quick: QUICK,
      ferretdb: FERRETDB,
      complete,
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(totalmem() / 1e9),
        loadAverage1mBefore: Number(loadBefore[0].toFixed(2)),
        loadAverage1mAfter: Number(loadavg()[0].toFixed(2)),
        node: process.version,
        ...(MEMORY_LIMIT === undefined ? {} : { heraldMemoryLimitMb: mib(MEMORY_LIMIT) }),
        ...(HERALD_CPUS ? { heraldCpus: HERALD_CPUS.herald, othersCpus: HERALD_CPUS.rest } : {}),
        note: 'shared host: other processes ran during the run (see the load averages); figures from a loaded host run slow',
      },
      run: RUN,
      results,
    };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(report, (_, v: unknown) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v), 2)}\n`);
  };
  // Stopped from outside (Ctrl-C, a timeout): the figures so far are written and the servers go too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      writeReport(false);
      void Promise.all([ferret.destroy(), s3.destroy(), rabbit?.destroy()]).finally(() => process.exit(130));
    });
  }
  try {
    for (const name of names) {
      const t0 = Date.now();
      try {
        results[name] = { ...(await PIPELINES[name](infra)), seconds: Math.round((Date.now() - t0) / 1000) };
      } catch (error) {
        process.stderr.write(`[bench] ${name} failed: ${(error as Error).stack ?? String(error)}\n`);
        results[name] = { failed: String(error) };
      }
      writeReport(false);
    }
  } finally {
    await Promise.all([ferret.destroy(), s3.destroy(), rabbit?.destroy()]);
  }
  writeReport(true);
  printTable(Object.fromEntries(Object.entries(results).filter(([, result]) => !('failed' in result))));
  process.stdout.write(`\nwrote ${OUT}\n`);
  process.exit(Object.values(results).some((result) => 'failed' in result) ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
