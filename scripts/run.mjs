// `npm start`: runs Herald on this machine with embedded defaults. Where MONGODB_URI / S3_ENDPOINT are not set it
// starts FerretDB / an S3 server (versitygw) of its own (data in a temporary directory, gone when it stops); SYSTEM_TOKEN defaults to
// `herald-dev-token`. Everything you set in the environment wins.
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const servers = require('./servers.cjs');
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const note = (message) => process.stderr.write(`[herald] ${message}\n`);

servers.ensureInstalled();
// The Node release the image runs (scripts/node.cjs), fetched once when this machine's own differs.
const nodeEnv = require('./node.cjs').nodeEnv();
execFileSync('npx', ['nest', 'build'], { cwd: root, stdio: 'inherit', env: nodeEnv });

const env = { ...nodeEnv };
const started = [];
if (!env.MONGODB_URI) {
  const ferret = await servers.startFerretDb();
  started.push(ferret);
  env.MONGODB_URI = `${ferret.url}/herald`;
  note(`MONGODB_URI not set: started FerretDB at ${ferret.url}`);
}
if (!env.S3_ENDPOINT) {
  const s3 = await servers.startS3();
  started.push(s3);
  Object.assign(env, {
    S3_ENDPOINT: s3.url,
    S3_FORCE_PATH_STYLE: 'true',
    S3_CREATE_BUCKET: 'true',
    AWS_ACCESS_KEY_ID: s3.accessKey,
    AWS_SECRET_ACCESS_KEY: s3.secretKey,
  });
  note(`S3_ENDPOINT not set: started versitygw (S3) at ${s3.url}`);
}
if (!env.SYSTEM_TOKEN) {
  env.SYSTEM_TOKEN = 'herald-dev-token';
  note('SYSTEM_TOKEN not set: using the development token "herald-dev-token" (set your own outside local runs)');
}
const port = env.PORT ?? '3000';
note(`Swagger will be at http://localhost:${port}/docs`);

const herald = spawn('node', [path.join(root, 'dist', 'main.js')], { env, stdio: 'inherit' });
const forward = (signal) => herald.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
herald.on('exit', async (code, signal) => {
  await Promise.all(started.map((server) => server.destroy()));
  process.exit(code ?? (signal ? 1 : 0));
});
