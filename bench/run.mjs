// `node bench/run.mjs <name>`: bundles bench/<name>-bench.ts with esbuild (packages stay external, resolved from the
// repo's node_modules) and runs it with the remaining arguments. npm run bench:vk and bench:outbox go through here.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [name, ...args] = process.argv.slice(2);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// Benchmarks run on the Node release Herald ships with (scripts/node.cjs), as `npm test` and `npm start` do: a
// figure taken on this machine's own Node would measure another runtime (and the Herald it spawns runs on ours).
const { nodeVersion, nodeEnv } = createRequire(import.meta.url)('../scripts/node.cjs');
if (process.version !== `v${nodeVersion()}`) {
  process.stderr.write(`[bench] re-running on Node ${nodeVersion()} (this is ${process.version})\n`);
  const again = spawnSync('node', [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: nodeEnv() });
  process.exit(again.status ?? 1);
}
const outDir = join(root, 'node_modules', '.cache', 'herald-bench');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, `${name}-bench.cjs`);
await build({
  entryPoints: [join(root, 'bench', `${name}-bench.ts`)],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  packages: 'external',
  tsconfig: join(root, 'tsconfig.json'),
  outfile,
  logLevel: 'warning',
});
const run = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit', cwd: root });
process.exit(run.status ?? 1);
