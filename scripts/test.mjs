// `npm test`: installs what is missing (cached), builds, type-checks, then runs every unit and end-to-end test
// against real FerretDB, MinIO, RabbitMQ, Redis and Chromium. Extra arguments go to jest.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const step = (name) => process.stderr.write(`\n== ${name}\n`);

step('provisioning servers (cached after the first run)');
require('./servers.cjs').ensureInstalled();

step('building');
execFileSync('npx', ['nest', 'build'], { cwd: root, stdio: 'inherit' });

step('type-checking src and test');
execFileSync('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });

step('jest');
const report = path.join(os.tmpdir(), `herald-jest-${process.pid}.json`);
// vk-io loads node-fetch with a dynamic import(), which Jest's CommonJS sandbox only allows with vm modules on.
const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim() };
const jest = spawnSync('npx', ['jest', '--maxWorkers=2', '--json', `--outputFile=${report}`, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env });
let summary;
try {
  summary = JSON.parse(readFileSync(report, 'utf8'));
  rmSync(report, { force: true });
} catch {
  /* jest died before writing its report */
}
if (summary) {
  const skipped = summary.numPendingTests + summary.numTodoTests;
  process.stdout.write(`\njest: ${summary.numPassedTests} passed, ${summary.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  if (summary.numTotalTests === 0) process.exit(1);
}
process.exit(jest.status ?? 1);
