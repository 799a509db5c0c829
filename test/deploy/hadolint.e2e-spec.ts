// The Dockerfile passes hadolint (the PyPI build of the binary, pinned in scripts/tools.cjs), and every rule it still
// ignores is explained in a comment right above the ignore.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensurePythonTools } = require('../../scripts/tools.cjs') as { ensurePythonTools(): { hadolint: string } };

const DOCKERFILE = path.resolve(__dirname, '../../Dockerfile');

describe('Dockerfile lint', () => {
  let hadolint: string;
  const lint = (text: string) => spawnSync(hadolint, ['--no-color', '--failure-threshold', 'info', '-'], { input: text, encoding: 'utf8' });

  beforeAll(
    () => {
      hadolint = ensurePythonTools().hadolint;
    },
    20 * 60 * 1000,
  );

  it('passes hadolint with nothing reported, not even info', () => {
    const result = lint(readFileSync(DOCKERFILE, 'utf8'));
    process.stdout.write(result.stdout);
    expect(result.stdout.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('explains every rule it ignores in the comment above, and each ignore is still needed', () => {
    const lines = readFileSync(DOCKERFILE, 'utf8').split('\n');
    lines.forEach((line, index) => {
      const ignore = /^# hadolint ignore=(.+)$/.exec(line);
      if (!ignore) return;
      for (const rule of ignore[1].split(',')) {
        // The explanation: a comment block just above that names the rule.
        const above = lines.slice(0, index).reverse();
        const comments = above.slice(
          0,
          above.findIndex((text) => !text.startsWith('#')),
        );
        expect({ rule, explained: comments.some((text) => text.includes(rule)) }).toEqual({ rule, explained: true });
        // Without the ignore, hadolint reports exactly that rule: it can fail, and the ignore is not stale.
        const without = lines.filter((_, at) => at !== index).join('\n');
        expect(lint(without).stdout).toContain(rule);
      }
    });
  });
});
