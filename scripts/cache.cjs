// Where the repo's scripts keep what they install (~/.cache/herald, or HERALD_CACHE_DIR), and the two ways they fill
// it: under a lock shared by concurrent processes (jest workers, several checkouts), and a pinned Go module built once.
// Plain CommonJS with no dependency, so scripts/node.cjs can use it before `npm ci`.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CACHE = process.env.HERALD_CACHE_DIR || path.join(os.homedir(), '.cache', 'herald');
const BIN = path.join(CACHE, 'bin');

/** Runs `fn` holding the lock `name` (a directory in the cache); a lock older than 30 minutes is taken as abandoned. */
function withInstallLock(name, fn) {
  fs.mkdirSync(CACHE, { recursive: true });
  const lock = path.join(CACHE, `${name}.lock`);
  const deadline = Date.now() + 20 * 60 * 1000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 30 * 60 * 1000) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** `go install module@version` once, kept as bin/<name>-<version>; returns the binary's path. */
function goInstalled(name, module, version, log) {
  const binary = path.join(BIN, `${name}-${version}`);
  if (fs.existsSync(binary)) return binary;
  return withInstallLock(name, () => {
    if (fs.existsSync(binary)) return binary;
    log(`building ${name} ${version} from its Go module (a few minutes, once)`);
    const gobin = path.join(CACHE, 'build', `${name}-bin`);
    fs.rmSync(gobin, { recursive: true, force: true });
    execFileSync('go', ['install', `${module}@${version}`], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, GOBIN: gobin, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' },
    });
    fs.mkdirSync(BIN, { recursive: true });
    fs.renameSync(path.join(gobin, name), binary);
    fs.rmSync(gobin, { recursive: true, force: true });
    return binary;
  });
}

module.exports = { CACHE, BIN, withInstallLock, goInstalled };
