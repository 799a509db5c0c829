// `npm start`: runs Herald on this machine with embedded defaults. Where MONGODB_URI / S3_ENDPOINT are not set it
// starts FerretDB / an S3 server (versitygw) of its own (data in a temporary directory, gone when it stops). It listens on 127.0.0.1
// unless HOST is set, and without SYSTEM_TOKEN or API_TOKENS_FILE it makes up a random SYSTEM_TOKEN for this run and
// prints it once. Its output in a terminal is pino-pretty's readable lines (LOG_PRETTY), elsewhere JSON lines. Everything
// you set in the environment, or in a .env file where it runs, wins. Production runs `node dist/main.js`, where a missing
// token is a configuration error instead.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(import.meta.url);
const servers = require('./servers.cjs');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const note = (message) => process.stderr.write(`[herald] ${message}\n`);

// A .env in the directory npm start runs in (the checkout: the same file docker compose reads) is read first; a
// variable set in the environment wins over the file. Its names, never its values, are said.
const envFile = path.resolve('.env');
if (existsSync(envFile)) {
  const before = new Set(Object.keys(process.env));
  try {
    process.loadEnvFile(envFile);
    const read = Object.keys(process.env).filter((name) => !before.has(name)).sort();
    note(`Read ${envFile}: ${read.join(', ') || 'nothing the environment did not already set'} (a variable in the environment wins over the file)`);
  } catch (error) {
    note(`Could not read ${envFile}: ${error.message}`);
    process.exit(78);
  }
}

servers.ensureInstalled();
// The Node release the image runs (scripts/node.cjs), fetched once when this machine's own differs.
const nodeEnv = require('./node.cjs').nodeEnv();
// Builds when a source is newer than dist/main.js (or there is none). Never a rebuild of an up-to-date dist/: `nest build`
// empties dist/ first, under any Herald already running from it (the test suite starts this script next to others).
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const file = path.join(dir, entry.name);
    return Math.max(latest, entry.isDirectory() ? newest(file) : statSync(file).mtimeMs);
  }, 0);
const main = path.join(root, 'dist', 'main.js');
const inputs = ['package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json'].map((file) => statSync(path.join(root, file)).mtimeMs);
if (existsSync(main) && statSync(main).mtimeMs >= Math.max(newest(path.join(root, 'src')), ...inputs)) {
  note('dist/ is up to date with src/: not rebuilding');
} else {
  execFileSync('npx', ['nest', 'build'], { cwd: root, stdio: 'inherit', env: nodeEnv });
}

const env = { ...nodeEnv };
/** The servers this script started, stopped when it ends; Herald once it runs, which then gets the signals. */
const started = [];
let herald;
let signalled;
let starting = false;
const EXIT_ON = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
const stopServersAndExit = async (code) => {
  await Promise.all(started.map((server) => server.destroy()));
  process.exit(code);
};
// SIGHUP too: Herald re-reads API_TOKENS_FILE on it, or without one (a closed terminal) stops as on SIGTERM; either way
// this script stays until Herald exits and then stops the servers it started, which would otherwise outlive it (they
// run in process groups of their own). A signal before Herald runs stops the servers started so far, once any server
// still starting is up.
const onSignal = (signal) => {
  if (herald) herald.kill(signal);
  else if (!signalled) {
    signalled = signal;
    if (!starting) void stopServersAndExit(EXIT_ON[signal]);
  }
};
for (const signal of Object.keys(EXIT_ON)) process.on(signal, onSignal);
// After a terminal closes, writing to it fails (EIO): that must not stop this script before it has stopped the servers.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
const startServer = async (start) => {
  starting = true;
  const server = await start();
  started.push(server);
  starting = false;
  if (signalled) await stopServersAndExit(EXIT_ON[signalled]);
  return server;
};

if (!env.MONGODB_URI) {
  const ferret = await startServer(() => servers.startFerretDb());
  env.MONGODB_URI = `${ferret.url}/herald`;
  note(`MONGODB_URI not set: started FerretDB at ${ferret.url}`);
}
if (!env.S3_ENDPOINT) {
  const s3 = await startServer(() => servers.startS3());
  Object.assign(env, {
    S3_ENDPOINT: s3.url,
    S3_FORCE_PATH_STYLE: 'true',
    S3_CREATE_BUCKET: 'true',
    AWS_ACCESS_KEY_ID: s3.accessKey,
    AWS_SECRET_ACCESS_KEY: s3.secretKey,
  });
  note(`S3_ENDPOINT not set: started versitygw (S3) at ${s3.url}`);
}
// In a terminal, one readable line per log entry (pino-pretty) instead of JSON lines, unless LOG_PRETTY says otherwise;
// piped or redirected output (a log collector, the test suite) stays JSON.
if (env.LOG_PRETTY === undefined && process.stdout.isTTY) {
  env.LOG_PRETTY = 'true';
  note('Logs: one readable line each, as the output is a terminal (LOG_PRETTY=false for JSON lines)');
}
if (!env.HOST) env.HOST = '127.0.0.1';
const port = env.PORT || '3000';
const swagger = `http://${['0.0.0.0', '::'].includes(env.HOST) ? 'localhost' : env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${port}/docs`;
if (!env.SYSTEM_TOKEN && !env.API_TOKENS_FILE && env.NODE_ENV !== 'production') {
  env.SYSTEM_TOKEN = randomBytes(24).toString('base64url');
  note(`SYSTEM_TOKEN not set: generated one for this run (every scope; a new one each start):\n\n    ${env.SYSTEM_TOKEN}\n`);
  note(`Swagger: ${swagger} ("Authorize" with the token above)`);
} else {
  note(`Swagger will be at ${swagger}`);
}
note(`Starting Herald on ${env.HOST}:${port}${env.HOST === '127.0.0.1' ? ' (this machine only; set HOST=0.0.0.0 to open it to the network)' : ''}`);

herald = spawn('node', [path.join(root, 'dist', 'main.js')], { env, stdio: 'inherit' });
herald.on('exit', (code, signal) => void stopServersAndExit(code ?? (signal ? 1 : 0)));
