import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PAGE = join(__dirname, '../../docs/migrating/toaster-router.md');

/** The Python blocks of the toaster migration page, which consumers copy as they are. */
const pythonBlocks = [...readFileSync(PAGE, 'utf8').matchAll(/```python\n([\s\S]*?)```/g)].map((match) => match[1]);

describe('docs/migrating/toaster-router.md', () => {
  it('has Python examples that compile', () => {
    expect(pythonBlocks.length).toBeGreaterThanOrEqual(4);
    const dir = mkdtempSync(join(tmpdir(), 'toaster-page-'));
    pythonBlocks.forEach((code, index) => {
      const file = join(dir, `block${index}.py`);
      writeFileSync(file, code);
      // py_compile exits non-zero with the syntax error on stderr, which execFileSync throws with.
      execFileSync('python3', ['-m', 'py_compile', file], { stdio: 'pipe' });
    });
  });

  it("has Herald consumers that outlive a Redis restart and don't lose an event a handler failed on", () => {
    // The router's own subscriber (pickle) is shown as it was; every consumer of Herald's events reads in a loop that
    // catches the connection dropping and backs off, and takes the event's mark back when its handler fails.
    const consumers = pythonBlocks.filter((code) => /pubsub\.listen\(\)|xreadgroup\(/.test(code) && !code.includes('import dill'));
    expect(consumers.length).toBe(2);
    for (const code of consumers) {
      expect(code).toMatch(/except \(ConnectionError, TimeoutError\)/);
      expect(code).toMatch(/time\.sleep\(/);
      expect(code).toMatch(/except Exception:\n\s+redis\.delete\(seen\)/);
    }
  });
});
