// The one Node release Herald supports is the Dockerfile's `ARG NODE_VERSION`. Where this machine's own Node is a
// different release, this fetches that exact release from the npm registry (the `node-<platform>-<arch>` package that
// the registry's `node` package installs, a plain binary with no install script) into ~/.cache/herald/node/<version>,
// so `npm ci`, the build and every test run on what the image runs.
//
//   node scripts/node.cjs bin      prints the directory holding that `node` (put it first on PATH)
//   node scripts/node.cjs version  prints the version the Dockerfile names
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const { CACHE, withInstallLock } = require('./cache.cjs');

/** The version in the Dockerfile's `ARG NODE_VERSION=x.y.z`: the single place it is written. */
function nodeVersion() {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const match = /^ARG NODE_VERSION=(\d+\.\d+\.\d+)\s*$/m.exec(dockerfile);
  if (!match) throw new Error('Dockerfile has no `ARG NODE_VERSION=x.y.z` line');
  return match[1];
}

/** The registry package that carries the binary, named as the `node` package's own installer names it. */
function binaryPackage(version) {
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  const prefix = process.platform === 'darwin' && process.arch === 'arm64' ? 'node-bin' : 'node';
  return `${prefix}-${platform}-${process.arch}@${version}`;
}

/** Returns the directory whose `node` is the supported release, fetching it once if needed. */
function ensureNode() {
  const version = nodeVersion();
  if (process.version === `v${version}`) return path.dirname(process.execPath);
  const dir = path.join(CACHE, 'node', version);
  const bin = path.join(dir, 'bin');
  if (answers(path.join(bin, 'node'), version)) return bin;

  return withInstallLock('node', () => {
    if (answers(path.join(bin, 'node'), version)) return bin;
    const pkg = binaryPackage(version);
    process.stderr.write(`[node] this machine runs ${process.version}; fetching Node ${version} (${pkg}) from the npm registry\n`);
    const work = fs.mkdtempSync(path.join(CACHE, 'node-fetch-'));
    try {
      // `npm pack` downloads the package tarball through npm's own cache and registry settings.
      const out = execFileSync('npm', ['pack', pkg, '--pack-destination', work, '--json'], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      const tarball = path.join(work, JSON.parse(out)[0].filename);
      execFileSync('tar', ['-xzf', tarball, '-C', work], { stdio: 'inherit' });
      const unpacked = path.join(work, 'package');
      const binary = path.join(unpacked, JSON.parse(fs.readFileSync(path.join(unpacked, 'package.json'), 'utf8')).bin.node);
      fs.chmodSync(binary, 0o755);
      if (!answers(binary, version)) throw new Error(`${pkg} did not unpack a working node ${version}`);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(bin, { recursive: true });
      fs.renameSync(binary, path.join(bin, 'node'));
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
    return bin;
  });
}

function answers(binary, version) {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() === `v${version}`;
  } catch {
    return false;
  }
}

/** An environment whose PATH finds the supported `node` first (npm, npx and their scripts then run on it). */
function nodeEnv(env = process.env) {
  const bin = ensureNode();
  return { ...env, PATH: `${bin}${path.delimiter}${env.PATH ?? ''}` };
}

/**
 * When this process is not on the pinned release, runs `script` again on it with the same arguments (saying so with
 * `say`) and exits with its status; otherwise returns. `npm test` and the benchmarks start this way.
 */
function runOnPinnedNode(script, say) {
  if (process.version === `v${nodeVersion()}`) return;
  say(`re-running on Node ${nodeVersion()} (this is ${process.version})`);
  const { spawnSync } = require('node:child_process');
  const again = spawnSync('node', [script, ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit', env: nodeEnv() });
  process.exit(again.status ?? 1);
}

module.exports = { nodeVersion, ensureNode, nodeEnv, runOnPinnedNode };

if (require.main === module) {
  const command = process.argv[2];
  if (command === 'bin') process.stdout.write(`${ensureNode()}\n`);
  else if (command === 'version') process.stdout.write(`${nodeVersion()}\n`);
  else {
    process.stderr.write('usage: node scripts/node.cjs bin|version\n');
    process.exit(2);
  }
}
