import { ANY_TEMPLATE, BrowserPool, LEND_IDLE_PAGE_AFTER_MS, PoolSaturatedError, RenderTimeoutError } from '../../src/browser/browser-pool';
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

describe('BrowserPool with two templates and two pages', () => {
  let pool: BrowserPool;
  const prepared: Record<string, number> = { red: 0, blue: 0 };

  beforeAll(async () => {
    // Leases here are held across several steps (a page reload among them): a timeout long enough that a loaded
    // machine never cuts one off, since these specs are about which page a lease gets.
    pool = new BrowserPool(loadConfig({ ...baseTestEnv(), BROWSER_POOL_SIZE: '2', RENDER_QUEUE_SIZE: '8', RENDER_TIMEOUT_MS: '60000' }));
    for (const name of ['red', 'blue']) {
      pool.registerTemplate({
        name,
        prepare: async (page) => {
          await page.setContent(`<!doctype html><body><p id="mark">${name}</p></body>`);
          prepared[name]++;
        },
      });
    }
    await pool.onApplicationBootstrap();
    // Start-up warms one page per template.
    const deadline = Date.now() + 20_000;
    while ((prepared.red < 1 || prepared.blue < 1) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the warm-up leases hand their pages back
  });

  afterAll(() => pool?.beforeApplicationShutdown());

  /** Leases a page and keeps it until released; answers what the page holds. Releasing waits for the lease to start. */
  const hold = (template: string) => {
    let started!: (release: () => void) => void;
    const release = new Promise<() => void>((resolve) => (started = resolve));
    const held = pool.lease(
      template,
      (page) =>
        new Promise<string | null>((resolve) => started(() => resolve(page.evaluate(() => document.getElementById('mark')?.textContent ?? null)))),
    );
    return { held, started: release.then(() => undefined), release: async () => (await release)() };
  };
  const tick = () => new Promise((resolve) => setTimeout(resolve, 100));

  it('starts with one warm page per template', () => {
    expect(prepared).toEqual({ red: 1, blue: 1 });
  });

  it("waits for a template's own busy page instead of reloading the other template's free page", async () => {
    const first = hold('red');
    await tick();
    const second = hold('red'); // red's page is busy, blue's is free: wait rather than turn blue's page red
    await tick();
    expect(prepared).toEqual({ red: 1, blue: 1 });
    await first.release();
    await second.release();
    await expect(Promise.all([first.held, second.held])).resolves.toEqual(['red', 'red']);
    expect(prepared).toEqual({ red: 1, blue: 1 });
    // blue's page stayed warm throughout.
    const blue = hold('blue');
    await blue.release();
    await expect(blue.held).resolves.toBe('blue');
    expect(prepared).toEqual({ red: 1, blue: 1 });
  });

  it('takes the other page when requests for one template outnumber its pages', async () => {
    const first = hold('red');
    await tick();
    const second = hold('red'); // waits for red's page (one request for one page)
    await tick();
    const third = hold('red'); // now two wait for one page: blue's free page is turned red
    await third.started;
    expect(prepared).toEqual({ red: 2, blue: 1 });
    for (const lease of [first, second, third]) await lease.release();
    await expect(Promise.all([first.held, second.held, third.held])).resolves.toEqual(['red', 'red', 'red']);
    // blue has no page now: its next request takes a free one at once.
    const blue = hold('blue');
    await blue.release();
    await expect(blue.held).resolves.toBe('blue');
    expect(prepared).toEqual({ red: 2, blue: 2 });
  });

  it('lends a page its template has left unused to renders that keep queueing for the other template', async () => {
    // One page each now; blue's was just used. A red render waits behind red's busy page while blue's stays free.
    const first = hold('red');
    await first.started;
    const second = hold('red');
    let secondStarted = false;
    void second.started.then(() => (secondStarted = true));
    await tick();
    expect(secondStarted).toBe(false);
    expect(prepared).toEqual({ red: 2, blue: 2 });
    // Once blue's page has been idle long enough, the queued red render gets it, though red's page is still busy
    // and no other request came.
    const waitedFrom = Date.now();
    await second.started;
    expect(Date.now() - waitedFrom).toBeLessThan(LEND_IDLE_PAGE_AFTER_MS + 5_000);
    expect(prepared).toEqual({ red: 3, blue: 2 });
    expect(pool.pagesByTemplate()).toEqual({ red: 2 });
    await second.release();
    await first.release();
    await expect(Promise.all([first.held, second.held])).resolves.toEqual(['red', 'red']);
  }, 30_000);
});
