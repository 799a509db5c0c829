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

export interface GoldenOptions {
  /**
   * Leave out the time axis' labels (a band above the bottom of the plot): a chart of data fetched "now" labels its x
   * axis with the time of the run; everything else (lines, legend, thresholds, title) must still match.
   */
  ignoreTimeAxis?: boolean;
}

/** Throws (with where the actual image and the diff were written) unless `actual` matches `<dir>/<name>.png`. */
export function expectMatchesGolden(dir: string, name: string, actual: Buffer, options: GoldenOptions = {}): void {
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
  if (options.ignoreTimeAxis) copyTimeAxisBand(expected, got);
  const diff = new PNG({ width: got.width, height: got.height });
  const differing = pixelmatch(expected.data, got.data, diff.data, got.width, got.height, { threshold: 0.1 });
  if (differing / (got.width * got.height) > MAX_DIFF_RATIO) {
    writeFileSync(join(outDir, `${name}.diff.png`), PNG.sync.write(diff));
    throw new Error(`${name}: ${differing} pixels differ from the golden; see ${outDir}/${name}.{actual,diff}.png`);
  }
}

/** Copies the golden's time-axis label band into the actual image, so only that band is not compared. */
function copyTimeAxisBand(expected: PNG, got: PNG): void {
  // The labels sit just above the legend: a band from 16% to 8% of the height above the bottom edge.
  const top = Math.floor(got.height * 0.78);
  const bottom = Math.ceil(got.height * 0.9);
  for (let y = top; y < bottom; y++) {
    const start = y * got.width * 4;
    expected.data.copy(got.data, start, start, start + got.width * 4);
  }
}
