#!/usr/bin/env node
// Builds every template in templates/<name>/ into static/<name>/ (committed, so the service needs no build step).
//
// A template folder may hold:
//   index.html            copied as is (the page the browser pool loads)
//   src/main.ts|main.ts   bundled with its npm imports into main.js (one IIFE, no network at run time)
//   style.css             bundled (its @imports inlined, e.g. from node_modules) into style.css
//   assets/               copied as is (fonts, icons)
// static/<name>/manifest.json gets a version: a hash of the built files, which the render cache keys include.
//
// Usage: node scripts/build-templates.mjs [--check] [name ...]
//   --check  build into a temporary folder and fail if static/ differs (a stale committed build)
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const templatesDir = join(root, 'templates');
const staticDir = join(root, 'static');

// Files a stylesheet points at (fonts, icons) are copied beside it under assets/.
const ASSET_LOADERS = Object.fromEntries(['.woff2', '.woff', '.ttf', '.otf', '.png', '.svg', '.gif', '.webp'].map((ext) => [ext, 'file']));

async function exists(path) {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function listFiles(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out.sort();
}

async function buildTemplate(name, outDir) {
  const source = join(templatesDir, name);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });

  const common = {
    bundle: true,
    minify: true,
    target: ['chrome120'],
    charset: 'utf8',
    legalComments: 'eof',
    logLevel: 'warning',
    absWorkingDir: root,
  };
  for (const entry of ['src/main.ts', 'main.ts']) {
    if (await exists(join(source, entry))) {
      await build({ ...common, entryPoints: [join(source, entry)], outfile: join(outDir, 'main.js'), format: 'iife', platform: 'browser' });
      break;
    }
  }
  if (await exists(join(source, 'style.css'))) {
    await build({ ...common, entryPoints: [join(source, 'style.css')], outfile: join(outDir, 'style.css'), loader: ASSET_LOADERS, assetNames: 'assets/[name]-[hash]' });
  }
  for (const entry of await readdir(source)) {
    if (entry.endsWith('.html')) await cp(join(source, entry), join(outDir, entry));
  }
  if (await exists(join(source, 'assets'))) await cp(join(source, 'assets'), join(outDir, 'assets'), { recursive: true });

  const hash = createHash('sha256');
  const files = [];
  for (const file of await listFiles(outDir)) {
    const name = relative(outDir, file);
    files.push(name);
    hash.update(name).update('\0').update(await readFile(file)).update('\0');
  }
  const manifest = { template: name, version: hash.digest('hex').slice(0, 16), files };
  await writeFile(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function swapInto(built, target) {
  const old = `${target}.old-${process.pid}`;
  const hadOld = await exists(target);
  if (hadOld) await rename(target, old);
  await rename(built, target);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

async function sameTree(a, b) {
  const [filesA, filesB] = [await listFiles(a).catch(() => []), await listFiles(b).catch(() => [])];
  const names = (files, base) => files.map((file) => relative(base, file)).join('\n');
  if (names(filesA, a) !== names(filesB, b)) return false;
  for (const file of filesA) {
    const other = join(b, relative(a, file));
    if (!(await readFile(file)).equals(await readFile(other))) return false;
  }
  return true;
}

async function main() {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const wanted = args.filter((arg) => !arg.startsWith('--'));
  const names = (await readdir(templatesDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && (wanted.length === 0 || wanted.includes(entry.name)))
    .map((entry) => entry.name)
    .sort();
  if (names.length === 0) throw new Error(`no templates found in ${relative(root, templatesDir)}/`);

  const scratch = check ? await mkdtemp(join(tmpdir(), 'herald-templates-')) : null;
  let failures = 0;
  try {
    for (const name of names) {
      // Built beside the target and swapped in, so a running service or test never sees a half-built folder.
      const outDir = scratch ? join(scratch, name) : join(staticDir, `.${name}.building-${process.pid}`);
      // One broken template must not keep the others from building.
      const manifest = await buildTemplate(name, outDir).catch(async (error) => {
        console.error(`templates/${name}/ failed to build: ${error.message}`);
        if (!scratch) await rm(outDir, { recursive: true, force: true });
        return null;
      });
      if (manifest && !scratch) await swapInto(outDir, join(staticDir, name));
      if (!manifest) {
        failures += 1;
      } else if (scratch && !(await sameTree(outDir, join(staticDir, name)))) {
        failures += 1;
        console.error(`static/${name}/ is stale: run npm run build:templates and commit it`);
      } else {
        console.log(`${check ? 'checked' : 'built'} static/${name}/ (version ${manifest.version}, ${manifest.files.join(', ')})`);
      }
    }
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
  if (failures > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
