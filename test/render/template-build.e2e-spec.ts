import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

describe('the committed discord-message build', () => {
  it('is what npm run build:templates makes from the current sources', () => {
    const root = join(__dirname, '..', '..');
    const check = spawnSync(process.execPath, ['scripts/build-templates.mjs', '--check', 'discord-message'], { cwd: root, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
