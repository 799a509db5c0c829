import { baseTestEnv, eventually } from '../support/app';
import { chromiumChildrenOf, startHeraldProcess as startHerald } from '../support/process';
import { freePort } from '../support/servers';

jest.setTimeout(300_000);

describe('the Herald process', () => {
  it('refuses to start on a malformed variable and names it', async () => {
    const { exited } = startHerald({ ...baseTestEnv(), BROWSER_POOL_SIZE: 'lots' });
    const result = await exited;
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('BROWSER_POOL_SIZE: must be a whole number, got \\"lots\\"');
    expect(result.stderr).not.toContain(baseTestEnv().SYSTEM_TOKEN);
  });

  it('on SIGTERM stops serving, closes the browser and exits 0 within 10 s, printing no secret', async () => {
    const port = await freePort();
    const env: Record<string, string> = { ...baseTestEnv(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' };
    const { child, exited } = startHerald(env);
    // Chromium's first start takes long on a loaded 2-core machine.
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200, 180_000, 250);
    await fetch(`http://127.0.0.1:${port}/health/live`, { headers: { authorization: `Bearer ${env.SYSTEM_TOKEN}` } });
    expect(chromiumChildrenOf(child.pid!).length).toBeGreaterThan(0);

    const signalled = Date.now();
    child.kill('SIGTERM');
    const result = await exited;
    expect(result.code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10000);
    expect(chromiumChildrenOf(child.pid!)).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();

    const lines = result.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(result.stdout + result.stderr).not.toContain(env.SYSTEM_TOKEN);
    expect(result.stdout + result.stderr).not.toContain(env.AWS_SECRET_ACCESS_KEY);
  });
});
