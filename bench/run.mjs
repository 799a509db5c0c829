// `node bench/run.mjs <name>`: bundles bench/<name>-bench.ts with esbuild (packages stay external, resolved from the
// repo's node_modules) and runs it with the remaining arguments. npm run bench:vk and bench:outbox go through here.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [name, ...args] = process.argv.slice(2);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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
