// `npm test`: installs what is missing (cached), builds, type-checks, then runs every unit and end-to-end test
// against real FerretDB, versitygw (S3), RabbitMQ, Redis and Chromium, and checks the deployment files (compose schema,
// Dockerfile replay and hadolint, Kubernetes manifests). Everything runs on the Node release the Dockerfile names:
// on a machine whose own Node differs, this fetches that release (scripts/node.cjs) and runs itself again on it.
// Extra arguments go to jest.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const step = (name) => process.stderr.write(`\n== ${name}\n`);

require('./node.cjs').runOnPinnedNode(new URL(import.meta.url).pathname, step);
process.stderr.write(`node ${process.version}\n`);

step('provisioning servers (cached after the first run)');
require('./servers.cjs').ensureInstalled();
// The fuzz run's API tester (schemathesis, in a cached virtual environment).
require('./servers.cjs').ensureSchemathesis();
require('./tools.cjs').ensureTools();

step('building');
execFileSync('npx', ['nest', 'build'], { cwd: root, stdio: 'inherit' });

step('type-checking src, test and bench, and the templates (esbuild bundles them without checking types)');
// One list of what is type-checked: package.json's lint:types.
execFileSync('npm', ['run', '--silent', 'lint:types'], { cwd: root, stdio: 'inherit' });

step('linting (ESLint, type-checked rules) and formatting (Prettier)');
execFileSync('npx', ['eslint', 'src', 'test', 'bench'], { cwd: root, stdio: 'inherit' });
execFileSync('npx', ['prettier', '--check', 'src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'], { cwd: root, stdio: 'inherit' });

step('jest');
// vk-io loads node-fetch with a dynamic import(), which Jest's CommonJS sandbox only allows with vm modules on.
const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim() };
const args = process.argv.slice(2);
// The Dockerfile replay runs npm ci, a build and a second Herald with Chromium: on its own, after the rest, so it
// neither slows the other specs past their timeouts nor is slowed by them. Extra arguments run jest once, as given.
const IMAGE_SPEC = 'test/deploy/image.e2e-spec.ts';
const runs = args.length ? [args] : [['--testPathIgnorePatterns', '/node_modules/', IMAGE_SPEC], [IMAGE_SPEC]];
const totals = { passed: 0, failed: 0, skipped: 0, total: 0 };
let status = 0;
for (const [index, runArgs] of runs.entries()) {
  const report = path.join(os.tmpdir(), `herald-jest-${process.pid}-${index}.json`);
  const jest = spawnSync('npx', ['jest', `--maxWorkers=${runArgs[0] === IMAGE_SPEC ? 1 : 2}`, '--json', `--outputFile=${report}`, ...runArgs], { cwd: root, stdio: 'inherit', env });
  if (jest.status !== 0) status = jest.status ?? 1;
  try {
    const summary = JSON.parse(readFileSync(report, 'utf8'));
    rmSync(report, { force: true });
    totals.passed += summary.numPassedTests;
    totals.failed += summary.numFailedTests;
    totals.skipped += summary.numPendingTests + summary.numTodoTests;
    totals.total += summary.numTotalTests;
  } catch {
    /* jest died before writing its report */
    status ||= 1;
  }
}
process.stdout.write(`\njest: ${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}\n`);
if (totals.total === 0) process.exit(1);
process.exit(status);
