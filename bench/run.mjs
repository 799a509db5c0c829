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
createRequire(import.meta.url)('../scripts/node.cjs').runOnPinnedNode(fileURLToPath(import.meta.url), (line) =>
  process.stderr.write(`[bench] ${line}\n`),
);
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
// The bundle lives under node_modules, which a second worktree may share through a symlink: the checkout it benchmarks
// (its dist/main.js, its templates) is told, not derived from where the bundle is.
const run = spawnSync(process.execPath, [outfile, ...args], { stdio: 'inherit', cwd: root, env: { ...process.env, HERALD_BENCH_ROOT: root } });
process.exit(run.status ?? 1);
