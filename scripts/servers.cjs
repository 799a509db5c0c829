// The real servers Herald's tests and local runs use: FerretDB (MongoDB wire protocol on SQLite), Versity's S3
// gateway (versitygw, the S3 server docker-compose.yml runs, same version), RabbitMQ, Redis, and Debian's Chromium.
// Installs what is missing (cached under ~/.cache/herald, so a second run is fast),
// starts each on a free loopback port with its data in a temporary directory, waits until it answers, stops it.
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const ROOT = path.resolve(__dirname, '..');
const { CACHE, BIN, withInstallLock, goInstalled } = require('./cache.cjs');

const FERRETDB_VERSION = 'v1.24.2';
// The S3 server: versitygw's posix backend, the version docker-compose.yml pins as `versity/versitygw:<version>`
// (test/deploy/compose.e2e-spec.ts checks that the two agree).
const VERSITYGW_MODULE = 'github.com/versity/versitygw/cmd/versitygw';
const VERSITYGW_VERSION = 'v1.8.0';
// tini is the image's PID 1 (the Dockerfile replay runs Herald under it); python3-venv holds the linters' venv.
// fonts-noto-cjk: without it Chinese, Japanese and Korean text renders as boxes (the Dockerfile installs it too).
// prometheus: the metrics dashboards' tests query a real one.
const APT_PACKAGES = ['chromium', 'fonts-noto-core', 'fonts-noto-cjk', 'fonts-noto-color-emoji', 'rabbitmq-server', 'redis-server', 'tini', 'python3-venv', 'prometheus'];
const PROMETHEUS = '/usr/bin/prometheus';
const REDIS_SERVER = '/usr/bin/redis-server';

function log(message) {
  if (process.env.HERALD_SERVERS_QUIET !== '1') process.stderr.write(`[servers] ${message}\n`);
}

function run(command, args, options = {}) {
  execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
}

function missingAptPackages() {
  return APT_PACKAGES.filter((name) => {
    try {
      const status = execFileSync('dpkg-query', ['-W', '-f=${Status}', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return !status.includes('install ok installed');
    } catch {
      return true;
    }
  });
}

function ensureAptPackages() {
  const missing = missingAptPackages();
  if (!missing.length) return;
  withInstallLock('apt', () => {
    const still = missingAptPackages();
    if (!still.length) return;
    log(`installing Debian packages: ${still.join(' ')}`);
    const sudo = process.getuid && process.getuid() !== 0 ? ['sudo'] : [];
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const exec = (args) => (sudo.length ? run('sudo', args, { env }) : run(args[0], args.slice(1), { env }));
    exec(['apt-get', 'update', '-qq']);
    exec(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...still]);
    // The packages start system-wide servers we don't use; our tests start their own on free ports.
    for (const service of ['rabbitmq-server', 'redis-server', 'prometheus']) {
      try {
        exec(['sh', '-c', `service ${service} stop >/dev/null 2>&1 || true`]);
      } catch {
        /* not running */
      }
    }
  });
}

/**
 * FerretDB v1 as pinned. `variant: 'id-index'` builds the same release with one line changed so that SQLite uses the
 * `_id` index it already has: the stock build pushes `{_id: …}` down as `_ferretdb_sjson->'$._id' = ?` while the
 * index is on `_ferretdb_sjson->"_id"`, a different expression, so every read (even by `_id`) scans the table (see
 * docs/adr/0004). Only the benchmarks use the variant, to show what the pipelines cost where `_id` reads are index
 * reads, as on MongoDB; the tests run on the stock build.
 */
function ensureFerretDb(variant = 'stock') {
  const suffix = variant === 'id-index' ? '-id-index' : '';
  const binary = path.join(BIN, `ferretdb-${FERRETDB_VERSION}${suffix}`);
  if (fs.existsSync(binary)) return binary;
  return withInstallLock('ferretdb', () => {
    if (fs.existsSync(binary)) return binary;
    log(`building FerretDB ${FERRETDB_VERSION}${suffix} from its Go module (a few minutes, once)`);
    // FerretDB embeds build/version/version.txt, which its module zip leaves out; vendor the pinned
    // module into the cache, write that one file, and build from the vendor tree.
    const work = path.join(CACHE, 'build', `ferretdb${suffix}`);
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    for (const file of ['go.mod', 'go.sum', 'tools.go']) {
      fs.copyFileSync(path.join(ROOT, 'scripts', 'servers', 'ferretdb', file), path.join(work, file));
    }
    run('go', ['mod', 'vendor'], { cwd: work });
    const module = path.join(work, 'vendor', 'github.com', 'FerretDB', 'FerretDB');
    fs.writeFileSync(path.join(module, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    if (variant === 'id-index') {
      const file = path.join(module, 'internal', 'backends', 'sqlite', 'metadata', 'metadata.go');
      const stock = `IDColumn = DefaultColumn + "->'$._id'"`;
      const source = fs.readFileSync(file, 'utf8');
      if (!source.includes(stock)) throw new Error(`FerretDB ${FERRETDB_VERSION}: ${file} no longer has ${stock}`);
      fs.chmodSync(file, 0o644);
      fs.writeFileSync(file, source.replace(stock, `IDColumn = DefaultColumn + "->'_id'"`));
    }
    fs.mkdirSync(BIN, { recursive: true });
    run('go', ['build', '-mod=vendor', '-trimpath', '-o', `${binary}.tmp`, 'github.com/FerretDB/FerretDB/cmd/ferretdb'], {
      cwd: work,
      env: { ...process.env, GOFLAGS: '-buildvcs=false' },
    });
    fs.renameSync(`${binary}.tmp`, binary);
    fs.rmSync(work, { recursive: true, force: true });
    return binary;
  });
}

function ensureVersityGw() {
  return goInstalled('versitygw', VERSITYGW_MODULE, VERSITYGW_VERSION, log);
}

const SCHEMATHESIS_VERSION = '4.32.5';

/**
 * Schemathesis (PyPI), the schema-driven API tester of the fuzz run, in a virtual environment of its own under the
 * cache; returns the path of its `st` command.
 */
function ensureSchemathesis() {
  const venv = path.join(CACHE, `schemathesis-${SCHEMATHESIS_VERSION}`);
  const st = path.join(venv, 'bin', 'st');
  // Written last, so an install cut short is redone rather than taken for done.
  const installed = path.join(venv, '.installed');
  if (fs.existsSync(installed)) return st;
  return withInstallLock('schemathesis', () => {
    if (fs.existsSync(installed)) return st;
    log(`installing schemathesis ${SCHEMATHESIS_VERSION} from PyPI into a virtual environment (once)`);
    fs.rmSync(venv, { recursive: true, force: true });
    run('python3', ['-m', 'venv', venv]);
    run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`]);
    fs.writeFileSync(installed, `${SCHEMATHESIS_VERSION}\n`);
    return st;
  });
}

/** Installs everything the tests and the local run need; idempotent and cached. */
function ensureInstalled({ rabbitmq = true } = {}) {
  ensureAptPackages();
  const ferretdb = ensureFerretDb();
  const versitygw = ensureVersityGw();
  return {
    ferretdb,
    versitygw,
    tini: '/usr/bin/tini',
    chromium: '/usr/bin/chromium',
    rabbitmq: rabbitmq ? '/usr/lib/rabbitmq/bin/rabbitmq-server' : undefined,
    redis: REDIS_SERVER,
    prometheus: PROMETHEUS,
  };
}

/**
 * A free loopback port that no other caller of freePort on this machine holds, and that the OS will not hand out
 * meanwhile. Ports come from below the kernel's ephemeral range (`listen(0)` and outgoing connections take theirs
 * from inside it), each reserved by a file naming the reserving process in a shared directory, created exclusively.
 * A port released by the OS stays reserved while its owner lives: a test that stops a server and starts it again on
 * its port (the fault tests) can no longer find it taken by another Jest worker's server meanwhile, which a port from
 * `listen(0)` could be: the likeliest reading of a CI run where a FerretDB restart "came up" and MongoDB then stayed
 * unreachable for two minutes (the probe only opened a TCP connection, to whatever held the port).
 * Reservations of processes that have exited are removed after ten minutes.
 */
async function freePort() {
  const [low] = ephemeralRange();
  const first = Math.max(1024, low - 12_000);
  const span = low - first;
  for (let tries = 0; tries < 200; tries += 1) {
    const port = first + crypto.randomInt(span);
    if (!reservePort(port)) continue;
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found between ${first} and ${low - 1}`);
}

const PORTS_DIR = path.join(os.tmpdir(), 'herald-ports');

function ephemeralRange() {
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 2048 && high >= low) return [low, high];
  } catch {
    /* not Linux: the IANA range */
  }
  return [49152, 65535];
}

/** Takes a port's reservation file; false if another caller holds it (or held it, until the sweep removes it). */
function reservePort(port) {
  sweepStaleReservations();
  try {
    fs.writeFileSync(path.join(PORTS_DIR, String(port)), String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    return false;
  }
}

let swept = false;

/**
 * Once per process: removes reservations whose process has exited and that are older than ten minutes (so that no
 * caller can be reserving the same port again while this runs).
 */
function sweepStaleReservations() {
  if (swept) return;
  swept = true;
  fs.mkdirSync(PORTS_DIR, { recursive: true });
  const before = Date.now() - 10 * 60_000;
  for (const name of fs.readdirSync(PORTS_DIR)) {
    const file = path.join(PORTS_DIR, name);
    try {
      if (fs.statSync(file).mtimeMs < before && !alive(Number(fs.readFileSync(file, 'utf8')))) fs.unlinkSync(file);
    } catch {
      /* another process removed it first */
    }
  }
}

function alive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function canListen(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function tcpOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(what, probe, child, timeoutMs, logFile, port) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) break;
    // An answer counts only from our own process: another one holding the port means ours cannot bind it.
    if ((await probe()) && (!child || port === undefined || groupListensOn(child.pid, port))) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  const tail = logFile && fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
  throw new Error(`${what} did not come up within ${timeoutMs} ms${child?.exitCode !== null && child ? ` (exited ${child.exitCode})` : ''}\n${tail}`);
}

/**
 * Whether a process in the group `pgid` (a server started detached leads its own group) listens on the loopback
 * `port`, from /proc; true where /proc cannot tell (not Linux).
 */
function groupListensOn(pgid, port) {
  const inodes = new Set();
  let readable = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(table, 'utf8');
      readable = true;
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue; // 0A: LISTEN
      if (parseInt(fields[1].split(':')[1], 16) === port) inodes.add(`socket:[${fields[9]}]`);
    }
  }
  if (!readable) return true;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp !== pgid) continue;
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        if (inodes.has(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))) return true;
      }
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return false;
}

/**
 * A server process that can be stopped and started again on the same port and data directory
 * (tests take dependencies down and bring them back).
 */
class ManagedServer {
  constructor({ name, port, dataDir, spawnArgs, probe, startTimeoutMs = 30000 }) {
    this.name = name;
    this.port = port;
    this.dataDir = dataDir;
    this.spawnArgs = spawnArgs;
    this.probe = probe;
    this.startTimeoutMs = startTimeoutMs;
    this.logFile = path.join(dataDir, `${name}.log`);
    this.child = undefined;
  }

  async start() {
    if (this.child && this.child.exitCode === null) return this;
    const [command, args, env] = this.spawnArgs();
    const out = fs.openSync(this.logFile, 'a');
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out], detached: true });
    fs.closeSync(out);
    this.child.unref();
    await waitFor(this.name, () => this.probe(), this.child, this.startTimeoutMs, this.logFile, this.port);
    return this;
  }

  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
    // The port must be free before a restart can bind it again.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (await tcpOpen(this.port))) await new Promise((resolve) => setTimeout(resolve, 100));
  }

  async destroy() {
    await this.stop();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `herald-${name}-`));
}

/**
 * FerretDB on a free port. `debugPort`: also serve FerretDB's own metrics (e.g. `ferretdb_client_requests_total`,
 * every command it was sent) at `server.metricsUrl`; the benchmarks read them.
 */
async function startFerretDb({ variant = 'stock', binary = ensureFerretDb(variant), port, debugPort } = {}) {
  port ??= await freePort();
  const dataDir = tempDir('ferretdb');
  const server = new ManagedServer({
    name: 'ferretdb',
    port,
    dataDir,
    spawnArgs: () => [
      binary,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${dataDir}/`,
        `--state-dir=${dataDir}`,
        `--listen-addr=127.0.0.1:${port}`,
        debugPort ? `--debug-addr=127.0.0.1:${debugPort}` : '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=warn',
      ],
      {},
    ],
    probe: () => tcpOpen(port),
  });
  await server.start();
  server.url = `mongodb://127.0.0.1:${port}`;
  if (debugPort) server.metricsUrl = `http://127.0.0.1:${debugPort}/debug/metrics`;
  return server;
}

/**
 * An S3 server: versitygw serving a temporary directory (one folder per bucket, objects as files; metadata such as
 * Content-Type in a sidecar directory, so it works on filesystems without user xattrs). Path-style, SigV4, presigned
 * URLs and bucket creation, as Herald uses them.
 */
async function startS3({ binary = ensureVersityGw(), port } = {}) {
  port ??= await freePort();
  const dataDir = tempDir('s3');
  const accessKey = 'herald-s3';
  const secretKey = crypto.randomBytes(18).toString('hex');
  for (const dir of ['data', 'meta', 'iam']) fs.mkdirSync(path.join(dataDir, dir));
  const server = new ManagedServer({
    name: 's3',
    port,
    dataDir,
    spawnArgs: () => [
      binary,
      [
        '--port', `127.0.0.1:${port}`,
        '--health', '/health',
        // Keep-alive as AWS S3 and MinIO do: without it every response says `Connection: close` and each request pays
        // for a new connection on both sides (the figures in docs/performance.md).
        '--keep-alive',
        '--iam-dir', path.join(dataDir, 'iam'),
        '--quiet',
        'posix',
        '--sidecar', path.join(dataDir, 'meta'),
        path.join(dataDir, 'data'),
      ],
      // The credentials go by environment, not argv (where `ps` would show them).
      { ROOT_ACCESS_KEY_ID: accessKey, ROOT_SECRET_ACCESS_KEY: secretKey },
    ],
    probe: async () => {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/health`);
        return response.ok;
      } catch {
        return false;
      }
    },
  });
  await server.start();
  Object.assign(server, { url: `http://127.0.0.1:${port}`, accessKey, secretKey });
  return server;
}

async function startRabbitMq({ port } = {}) {
  port ??= await freePort();
  const distPort = await freePort();
  const dataDir = tempDir('rabbitmq');
  const node = `herald${port}@localhost`;
  fs.writeFileSync(path.join(dataDir, 'enabled_plugins'), '[].\n');
  fs.writeFileSync(path.join(dataDir, 'rabbitmq.conf'), ['loopback_users = none', 'log.console = false', 'log.file.level = warning'].join('\n') + '\n');
  const server = new ManagedServer({
    name: 'rabbitmq',
    port,
    dataDir,
    startTimeoutMs: 60000,
    spawnArgs: () => [
      '/usr/lib/rabbitmq/bin/rabbitmq-server',
      [],
      {
        RABBITMQ_NODENAME: node,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(port),
        RABBITMQ_DIST_PORT: String(distPort),
        RABBITMQ_MNESIA_BASE: path.join(dataDir, 'mnesia'),
        RABBITMQ_LOG_BASE: path.join(dataDir, 'log'),
        RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dataDir, 'enabled_plugins'),
        RABBITMQ_CONFIG_FILE: path.join(dataDir, 'rabbitmq'),
        RABBITMQ_PID_FILE: path.join(dataDir, 'rabbitmq.pid'),
        HOME: process.env.HOME || os.homedir(),
      },
    ],
    probe: () => amqpAnswers(port),
  });
  await server.start();
  server.url = `amqp://guest:guest@127.0.0.1:${port}`;
  return server;
}

/**
 * Redis with an append-only file synced on every write, so a stop and start (tests take it down mid-stream) keeps
 * what it acknowledged, as a production Redis holding streams should.
 */
async function startRedis({ port } = {}) {
  port ??= await freePort();
  const dataDir = tempDir('redis');
  const server = new ManagedServer({
    name: 'redis',
    port,
    dataDir,
    spawnArgs: () => [
      REDIS_SERVER,
      [
        '--bind', '127.0.0.1',
        '--port', String(port),
        '--dir', dataDir,
        '--appendonly', 'yes',
        '--appendfsync', 'always',
        '--save', '',
        '--daemonize', 'no',
        '--protected-mode', 'yes',
        '--loglevel', 'warning',
      ],
      {},
    ],
    probe: () => redisAnswers(port),
  });
  await server.start();
  server.url = `redis://127.0.0.1:${port}`;
  return server;
}

/**
 * Prometheus (Debian's package) scraping `targets` (host:port, path /metrics) every `scrapeIntervalSeconds`, its TSDB
 * in a temporary directory.
 */
async function startPrometheus({ targets = [], scrapeIntervalSeconds = 1, port } = {}) {
  port ??= await freePort();
  const dataDir = tempDir('prometheus');
  const config = [
    'global:',
    `  scrape_interval: ${scrapeIntervalSeconds}s`,
    `  evaluation_interval: ${scrapeIntervalSeconds}s`,
    'scrape_configs:',
    '  - job_name: test',
    '    static_configs:',
    `      - targets: [${targets.map((target) => `'${target}'`).join(', ')}]`,
  ].join('\n');
  fs.writeFileSync(path.join(dataDir, 'prometheus.yml'), `${config}\n`);
  const server = new ManagedServer({
    name: 'prometheus',
    port,
    dataDir,
    spawnArgs: () => [
      PROMETHEUS,
      [
        `--config.file=${path.join(dataDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dataDir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      {},
    ],
    probe: async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok;
      } catch {
        return false;
      }
    },
  });
  await server.start();
  server.url = `http://127.0.0.1:${port}`;
  return server;
}

/** True once Redis answers PING (it opens the port before it has loaded its data). */
function redisAnswers(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString('latin1').startsWith('+PONG')));
    socket.once('error', () => done(false));
  });
}

/** True once the broker speaks AMQP (the port opens before the broker can take connections). */
function amqpAnswers(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (answer) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write(Buffer.from('AMQP\x00\x00\x09\x01', 'binary')));
    socket.once('data', (data) => done(data.length > 7 && data[0] === 1));
    socket.once('error', () => done(false));
  });
}

module.exports = { ensureInstalled, ensureFerretDb, ensureVersityGw, ensureSchemathesis, startFerretDb, startS3, startRabbitMq, startRedis, startPrometheus, freePort, tcpOpen, alive, CACHE, VERSITYGW_VERSION };

if (require.main === module) {
  // `node scripts/servers.cjs install`: provision everything (CI's first step, and `npm run setup`).
  const command = process.argv[2] || 'install';
  if (command !== 'install') {
    process.stderr.write('usage: node scripts/servers.cjs install\n');
    process.exit(2);
  }
  const installed = ensureInstalled();
  process.stdout.write(`${JSON.stringify(installed)}\n`);
}
