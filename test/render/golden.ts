// Golden images: committed PNGs a person has looked at; renders must match them pixel by pixel within a small
// tolerance (pixelmatch). UPDATE_GOLDENS=1 rewrites them — then look at every changed file before committing.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';

const GOLDENS = join(__dirname, 'goldens');
/** Share of pixels allowed to differ (anti-aliasing noise), after pixelmatch's per-pixel colour threshold. */
const MAX_DIFF_RATIO = 0.002;

export function compareWithGolden(name: string, actual: Buffer): { ok: true } | { ok: false; reason: string } {
  const path = join(GOLDENS, `${name}.png`);
  if (process.env.UPDATE_GOLDENS === '1') {
    mkdirSync(GOLDENS, { recursive: true });
    writeFileSync(path, actual);
    return { ok: true };
  }
  if (!existsSync(path)) return { ok: false, reason: `no golden ${path}; run with UPDATE_GOLDENS=1 and look at it` };

  const expected = PNG.sync.read(readFileSync(path));
  const got = PNG.sync.read(actual);
  const outDir = join(tmpdir(), 'herald-golden-diffs');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${name}.actual.png`), actual);
  if (expected.width !== got.width || expected.height !== got.height) {
    return { ok: false, reason: `${name}: size ${got.width}x${got.height}, golden ${expected.width}x${expected.height} (actual in ${outDir})` };
  }
  const diff = new PNG({ width: got.width, height: got.height });
  const differing = pixelmatch(expected.data, got.data, diff.data, got.width, got.height, { threshold: 0.1 });
  const ratio = differing / (got.width * got.height);
  if (ratio > MAX_DIFF_RATIO) {
    writeFileSync(join(outDir, `${name}.diff.png`), PNG.sync.write(diff));
    return { ok: false, reason: `${name}: ${differing} pixels (${(ratio * 100).toFixed(2)} %) differ; see ${outDir}/${name}.{actual,diff}.png` };
  }
  return { ok: true };
}
