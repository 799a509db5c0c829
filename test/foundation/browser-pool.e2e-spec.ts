import { ANY_TEMPLATE, BrowserPool, PoolSaturatedError, RenderTimeoutError } from '../../src/browser/browser-pool';
import { loadConfig } from '../../src/config/config';
import { baseTestEnv } from '../support/app';

describe('BrowserPool on Debian Chromium', () => {
  let pool: BrowserPool;
  let prepared = 0;

  beforeAll(async () => {
    pool = new BrowserPool(loadConfig({ ...baseTestEnv(), BROWSER_POOL_SIZE: '1', RENDER_QUEUE_SIZE: '1', RENDER_TIMEOUT_MS: '3000' }));
    pool.registerTemplate({
      name: 'marked',
      prepare: async (page) => {
        prepared++;
        await page.setContent('<!doctype html><body><p id="mark">warm</p></body>');
      },
    });
    await pool.onApplicationBootstrap();
  });

  afterAll(() => pool?.beforeApplicationShutdown());

  const markOf = () => pool.lease('marked', (page) => page.evaluate(() => document.getElementById('mark')?.textContent ?? null));

  it('keeps a warm template page warm while readiness probes borrow it', async () => {
    expect(await markOf()).toBe('warm');
    const before = prepared;
    for (let probe = 0; probe < 5; probe++) await pool.lease(ANY_TEMPLATE, (page) => page.evaluate(() => document.readyState));
    expect(await markOf()).toBe('warm');
    expect(prepared).toBe(before);
  });

  it('refuses work beyond its queue instead of queueing without bound', async () => {
    let releaseFirst!: () => void;
    const first = pool.lease('marked', () => new Promise<void>((resolve) => (releaseFirst = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const queued = pool.lease('marked', async () => 'queued ran');
    await expect(pool.lease('marked', async () => 'never')).rejects.toBeInstanceOf(PoolSaturatedError);
    releaseFirst();
    await first;
    await expect(queued).resolves.toBe('queued ran');
  });

  it('cuts off hung work and serves the next lease from a fresh page', async () => {
    const before = prepared;
    await expect(pool.lease('marked', () => new Promise(() => undefined), { timeoutMs: 500 })).rejects.toBeInstanceOf(RenderTimeoutError);
    expect(await markOf()).toBe('warm');
    expect(prepared).toBe(before + 1);
  });
});
