// Golden images: committed PNGs a person has looked at; a render must match its golden pixel by pixel within a
// small tolerance (pixelmatch). UPDATE_GOLDENS=1 writes the current renders as the goldens instead — then look
// at every changed file before committing it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';

/** Share of pixels allowed to differ (anti-aliasing noise), after pixelmatch's per-pixel colour threshold. */
const MAX_DIFF_RATIO = 0.002;

/** Throws (with where the actual image and the diff were written) unless `actual` matches `<dir>/<name>.png`. */
export function expectMatchesGolden(dir: string, name: string, actual: Buffer): void {
  const path = join(dir, `${name}.png`);
  const updating = process.env.UPDATE_GOLDENS === '1';
  if (updating || !existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, actual);
    if (updating) return;
    // A new golden is written for a person to look at and commit; the run still fails so it is not taken on trust.
    throw new Error(`wrote a new golden ${path}: look at it, commit it, run again`);
  }

  const expected = PNG.sync.read(readFileSync(path));
  const got = PNG.sync.read(actual);
  const outDir = join(tmpdir(), 'herald-golden-diffs');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${name}.actual.png`), actual);
  if (expected.width !== got.width || expected.height !== got.height) {
    throw new Error(`${name}: size ${got.width}x${got.height}, golden ${expected.width}x${expected.height} (actual in ${outDir})`);
  }
  const diff = new PNG({ width: got.width, height: got.height });
  const differing = pixelmatch(expected.data, got.data, diff.data, got.width, got.height, { threshold: 0.1 });
  if (differing / (got.width * got.height) > MAX_DIFF_RATIO) {
    writeFileSync(join(outDir, `${name}.diff.png`), PNG.sync.write(diff));
    throw new Error(`${name}: ${differing} pixels differ from the golden; see ${outDir}/${name}.{actual,diff}.png`);
  }
}
