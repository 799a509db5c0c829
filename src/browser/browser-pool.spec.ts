import { readFileSync } from 'node:fs';
import { pssFromSmapsRollup } from './browser-pool';

describe('pssFromSmapsRollup', () => {
  it("reads a process's proportional set size from /proc/<pid>/smaps_rollup, in bytes, not its larger RSS", () => {
    const rollup = [
      '55b1a2368000-7fff642eb000 ---p 00000000 00:00 0                          [rollup]',
      'Rss:              245760 kB',
      'Pss:               98304 kB',
      'Pss_Dirty:         40960 kB',
      'Pss_Anon:          40000 kB',
      'Shared_Clean:     150000 kB',
    ].join('\n');
    expect(pssFromSmapsRollup(rollup)).toBe(98304 * 1024);
  });

  it('answers nothing for a text without a Pss line (the caller then falls back to RSS)', () => {
    expect(pssFromSmapsRollup('')).toBeUndefined();
    expect(pssFromSmapsRollup('Rss: 1608 kB\nPss_Anon: 112 kB\n')).toBeUndefined();
  });

  it("reads this process's own smaps_rollup, where Linux has one", () => {
    let text: string;
    try {
      text = readFileSync('/proc/self/smaps_rollup', 'utf8');
    } catch {
      return;
    }
    expect(pssFromSmapsRollup(text)).toBeGreaterThan(0);
  });
});
