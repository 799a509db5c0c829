import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { Browser, BrowserContext, Page, chromium } from 'playwright';
import { APP_CONFIG, AppConfig } from '../config/config';
import { ServiceBusyError, errorMessage } from '../common/errors';
import { settleWithin, withTimeout } from '../common/timeouts';
import { telemetry } from '../telemetry/telemetry';

/** A page kind the pool keeps warm: `prepare` loads it into a fresh page once, renders then reuse the page. */
export interface PageTemplate {
  name: string;
  prepare(page: Page): Promise<void>;
}

export interface LeaseOptions {
  /** Cut the work off after this long; the page is then thrown away. Defaults to RENDER_TIMEOUT_MS. */
  timeoutMs?: number;
}

export class PoolSaturatedError extends ServiceBusyError {
  constructor(queued: number) {
    super(`The renderer is at capacity (${queued} requests waiting); retry shortly`, 2);
    this.name = 'PoolSaturatedError';
  }
}

/** Work on a page cut off by the timeout: answered 503 + Retry-After (the page is thrown away and replaced). */
export class RenderTimeoutError extends ServiceBusyError {
  constructor(timeoutMs: number) {
    super(`Rendering did not finish within ${timeoutMs} ms; the page was replaced, retry shortly`, 1);
    this.name = 'RenderTimeoutError';
  }
}

export class BrowserCrashedError extends ServiceBusyError {
  constructor(detail: string) {
    super(`The browser crashed while rendering (${detail}); it is being replaced, retry shortly`, 1);
    this.name = 'BrowserCrashedError';
  }
}

export class BrowserUnavailableError extends ServiceBusyError {
  constructor(detail: string) {
    super(`No browser is available: ${detail}`, 5);
    this.name = 'BrowserUnavailableError';
  }
}

/** The empty page, for callers that bring their own content. */
export const BLANK_TEMPLATE = 'blank';

/**
 * Any live page, as it is (readiness uses it): probing must not evict a warm template page. Work done on it must
 * leave the page as it found it. Falls back to a blank page when no page is warm yet.
 */
export const ANY_TEMPLATE = '*';

/**
 * A free page its template has left unused this long is re-prepared for a template whose renders are queueing behind
 * busy pages. A reload costs about ten renders' worth; keeping a page warm for a template nobody asks for would idle a
 * share of the pool for as long as the other template's queue lasts (`npm run bench:render` rendered messages on three of
 * its four pages, the fourth kept for charts). A page used within this time stays: a short queue waits.
 */
export const LEND_IDLE_PAGE_AFTER_MS = 5000;

const LOCAL_PROTOCOLS = new Set(['file:', 'data:', 'blob:', 'about:']);
/** Linux's page size on the machines Herald runs on (x86-64 and arm64 default kernels). */
const PAGE_SIZE = 4096;

/** Flags every Chromium Herald launches gets (the render benchmark launches its baselines with the same). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--font-render-hinting=none',
  '--hide-scrollbars',
  '--mute-audio',
];

interface Slot {
  id: number;
  context?: BrowserContext;
  page?: Page;
  template?: string;
  /** The browser generation the page belongs to; a page from an older browser is dead. */
  generation: number;
  crashed: boolean;
  busy: boolean;
  /** When the page was last handed back free (performance.now()). */
  freedAt: number;
}

interface Waiter {
  template: string;
  resolve(slot: Slot): void;
}

const leaseSeconds = telemetry.histogram('herald_browser_lease_seconds', 'Time spent waiting for a warm page', ['template']);
const crashes = telemetry.counter('herald_browser_crashes_total', 'Browser or page crashes detected', ['kind']);
const blockedRequests = telemetry.counter('herald_browser_blocked_requests_total', 'Page requests to non-local URLs that were aborted');
const queueDepth = telemetry.gauge('herald_browser_queue_depth', 'Renders waiting for a page');

/** Pools whose Chromium the scrape reports (one per process in production; tests may run several). */
const livePools = new Set<BrowserPool>();
telemetry.collected('herald_browser_cpu_seconds', 'CPU seconds used by the running Chromium, by process type', ['type'], async (gauge) => {
  gauge.reset();
  for (const pool of livePools) for (const process of await pool.processes()) gauge.inc({ type: process.type }, process.cpuTime);
});
// PSS, not RSS: Chromium's processes share most of their pages (the binary, fonts, shared memory), which a sum of RSS
// counts once per process (about twice the real footprint, measured). PSS shares each page among its users, so the sum
// is what the processes cost together, the figure to hold against a memory limit.
telemetry.collected(
  'herald_browser_pss_bytes',
  'Proportional set size (PSS) of the running Chromium, by process type: shared pages divided among the processes sharing them, so the sum is what they use together (Linux; RSS where /proc/<pid>/smaps_rollup is missing)',
  ['type'],
  async (gauge) => {
    gauge.reset();
    for (const pool of livePools) {
      for (const process of await pool.processes()) {
        const bytes = proportionalBytes(process.id);
        if (bytes !== undefined) gauge.inc({ type: process.type }, bytes);
      }
    }
  },
);

telemetry.collected('herald_browser_pages', 'Warm pages by the template they hold', ['template'], async (gauge) => {
  gauge.reset();
  for (const pool of livePools) for (const [template, pages] of Object.entries(pool.pagesByTemplate())) gauge.set({ template }, pages);
});

/**
 * One Chromium per process and a fixed set of warm pages, leased one at a time. A browser is a process
 * that will crash: a dead page or browser is detected, thrown away and replaced on the next lease.
 */
@Injectable()
export class BrowserPool implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(BrowserPool.name);
  private readonly templates = new Map<string, PageTemplate>();
  private readonly slots: Slot[];
  private readonly waiters: Waiter[] = [];
  private browser?: Browser;
  private launching?: Promise<Browser>;
  private generation = 0;
  private closing = false;
  private inFlight = 0;
  private pid?: number;
  private idle?: () => void;
  /** Set while renders wait and a free page of another template is not yet idle long enough to lend (see acquire). */
  private lendTimer?: NodeJS.Timeout;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.slots = Array.from({ length: config.browser.poolSize }, (_, id) => ({ id, generation: -1, crashed: false, busy: false, freedAt: 0 }));
    this.registerTemplate({
      name: BLANK_TEMPLATE,
      prepare: async (page) => void (await page.setContent('<!doctype html><html><body></body></html>')),
    });
  }

  registerTemplate(template: PageTemplate): void {
    this.templates.set(template.name, template);
  }

  get size(): number {
    return this.slots.length;
  }

  /** The pid of the running Chromium, for operators and for tests that kill it. */
  browserPid(): number | undefined {
    return this.browser?.isConnected() ? this.pid : undefined;
  }

  /** How many live pages hold each template: the page set follows the traffic mix (see acquire). */
  pagesByTemplate(): Record<string, number> {
    const pages: Record<string, number> = {};
    for (const slot of this.slots) if (slot.template && this.isAlive(slot)) pages[slot.template] = (pages[slot.template] ?? 0) + 1;
    return pages;
  }

  /** The running Chromium's processes with the CPU time each has used (for /metrics and the render benchmark). */
  async processes(): Promise<BrowserProcess[]> {
    return this.browser?.isConnected() ? browserProcesses(this.browser) : [];
  }

  async onApplicationBootstrap(): Promise<void> {
    livePools.add(this);
    if (!this.config.browser.executablePath) {
      this.logger.warn('No Chromium found (set BROWSER_EXECUTABLE_PATH); rendering is unavailable until one is configured');
      return;
    }
    try {
      await this.ensureBrowser();
    } catch (error) {
      this.logger.error({ err: error }, 'Chromium did not start; rendering will retry on the next request');
      return;
    }
    // Warm every slot with a template in the background so the first renders don't pay for it.
    const names = [...this.templates.keys()].filter((name) => name !== BLANK_TEMPLATE);
    void Promise.all(
      this.slots.map((slot, index) =>
        names.length ? this.lease(names[index % names.length], async () => undefined).catch(() => undefined) : Promise.resolve(),
      ),
    );
  }

  async lease<T>(templateName: string, work: (page: Page) => Promise<T>, options: LeaseOptions = {}): Promise<T> {
    if (this.closing) throw new BrowserUnavailableError('the service is shutting down');
    if (templateName !== ANY_TEMPLATE && !this.templates.has(templateName)) throw new Error(`Unknown page template "${templateName}"`);
    const timeoutMs = options.timeoutMs ?? this.config.browser.timeoutMs;

    this.inFlight++;
    const waitStarted = process.hrtime.bigint();
    let slot: Slot;
    try {
      slot = await this.acquire(templateName);
    } catch (error) {
      this.finishOne();
      throw error;
    }
    leaseSeconds.observe({ template: templateName }, Number(process.hrtime.bigint() - waitStarted) / 1e9);

    try {
      // Opening a context on a browser that just died fails before 'disconnected' is seen: still a crash.
      const page = await this.warmPage(slot, templateName, timeoutMs).catch((error: unknown) => {
        throw this.classify(error, slot, slot.generation);
      });
      return await this.runWithTimeout(slot, page, work, timeoutMs);
    } finally {
      this.release(slot);
      this.finishOne();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    livePools.delete(this);
    this.closing = true;
    clearTimeout(this.lendTimer);
    for (const waiter of this.waiters.splice(0)) waiter.resolve(undefined as unknown as Slot);
    if (this.inFlight > 0) await settleWithin(new Promise<void>((resolve) => (this.idle = resolve)), this.config.shutdownTimeoutMs / 2);
    const browser = this.browser;
    this.browser = undefined;
    await browser?.close().catch(() => undefined);
  }

  private finishOne(): void {
    this.inFlight--;
    if (this.inFlight === 0) this.idle?.();
  }

  /**
   * A free page that holds the template is taken at once. Otherwise a request waits for one of the template's own
   * pages rather than reloading another template's page (a new context and a page load, ~10 renders' worth), unless
   * no page holds the template or the requests waiting for it outnumber its pages: then a free page is re-prepared.
   * A request that waits while another template's page is free gets that page once it has gone unused for
   * LEND_IDLE_PAGE_AFTER_MS (scheduleLend). So the page set follows the traffic mix.
   */
  private acquire(templateName: string): Promise<Slot> {
    const free = this.slots.filter((slot) => !slot.busy);
    const warm = free.find((candidate) => (candidate.template === templateName || templateName === ANY_TEMPLATE) && this.isAlive(candidate));
    const queueFull = this.waiters.length >= this.config.browser.queueSize;
    const slot = warm ?? (free.length && (this.outgrows(templateName, 1) || queueFull) ? this.evictable(free) : undefined);
    if (slot) {
      slot.busy = true;
      return Promise.resolve(slot);
    }
    if (queueFull) return Promise.reject(new PoolSaturatedError(this.waiters.length));
    return new Promise<Slot>((resolve, reject) => {
      this.waiters.push({
        template: templateName,
        resolve: (handed) => (handed ? resolve(handed) : reject(new BrowserUnavailableError('the service is shutting down'))),
      });
      queueDepth.set(this.waiters.length);
      this.scheduleLend();
    });
  }

  private release(slot: Slot): void {
    // A waiter for the template this page holds gets it; otherwise the oldest waiter whose template's own pages
    // cannot keep up (see acquire). Else the page stays free and warm.
    let index = this.waiters.findIndex((waiter) => waiter.template === ANY_TEMPLATE || (waiter.template === slot.template && this.isAlive(slot)));
    if (index < 0) index = this.waiters.findIndex((waiter) => this.outgrows(waiter.template, 0));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      queueDepth.set(this.waiters.length);
      waiter.resolve(slot);
      return;
    }
    slot.busy = false;
    slot.freedAt = performance.now();
    this.scheduleLend();
  }

  /**
   * While renders wait and another template's page is free, the oldest waiter gets that page once it has been idle
   * LEND_IDLE_PAGE_AFTER_MS: a queue that lasts is served by the whole pool without waiting for a new request to come.
   */
  private scheduleLend(): void {
    if (this.lendTimer || this.closing || !this.waiters.length) return;
    const idlest = this.idlest(this.slots.filter((slot) => !slot.busy));
    if (!idlest) return;
    const delay = Math.max(0, idlest.freedAt + LEND_IDLE_PAGE_AFTER_MS - performance.now());
    this.lendTimer = setTimeout(() => {
      this.lendTimer = undefined;
      const slot = this.longIdle(this.slots.filter((candidate) => !candidate.busy));
      if (slot && this.waiters.length && !this.closing) {
        const [waiter] = this.waiters.splice(0, 1);
        queueDepth.set(this.waiters.length);
        slot.busy = true;
        waiter.resolve(slot);
      }
      this.scheduleLend();
    }, delay);
    this.lendTimer.unref();
  }

  /** The free page unused longest, if that is at least LEND_IDLE_PAGE_AFTER_MS. */
  private longIdle(free: Slot[]): Slot | undefined {
    const idlest = this.idlest(free);
    return idlest && performance.now() - idlest.freedAt >= LEND_IDLE_PAGE_AFTER_MS ? idlest : undefined;
  }

  private idlest(free: Slot[]): Slot | undefined {
    return free.reduce<Slot | undefined>((best, slot) => (!best || slot.freedAt < best.freedAt ? slot : best), undefined);
  }

  /** Whether the requests for a template (those waiting plus `arriving`) outnumber the live pages holding it. */
  private outgrows(templateName: string, arriving: number): boolean {
    if (templateName === ANY_TEMPLATE) return true;
    const wanting = this.waiters.filter((waiter) => waiter.template === templateName).length + arriving;
    return wanting > this.livePages(templateName);
  }

  /** The free page to re-prepare: an empty or dead one first, else one whose template has the most pages. */
  private evictable(free: Slot[]): Slot {
    const empty = free.find((slot) => !slot.template || !this.isAlive(slot));
    if (empty) return empty;
    return free.reduce((best, slot) => (this.livePages(slot.template!) > this.livePages(best.template!) ? slot : best));
  }

  private livePages(templateName: string): number {
    return this.slots.filter((slot) => slot.template === templateName && this.isAlive(slot)).length;
  }

  private isAlive(slot: Slot): boolean {
    return Boolean(slot.page && !slot.crashed && !slot.page.isClosed() && slot.generation === this.generation && this.browser?.isConnected());
  }

  private async warmPage(slot: Slot, templateName: string, timeoutMs: number): Promise<Page> {
    if (this.isAlive(slot) && (slot.template === templateName || templateName === ANY_TEMPLATE)) return slot.page!;
    if (templateName === ANY_TEMPLATE) templateName = BLANK_TEMPLATE;
    await this.discardPage(slot);
    const browser = await this.ensureBrowser();
    const generation = this.generation;
    // Bounded like the render: a Chromium killed at the wrong moment can leave one of these calls unanswered, and a
    // lease that never ends holds its slot for good. A page that opens after all is closed, not leaked.
    const opening = this.openPage(browser);
    const { context, page } = await withTimeout(opening, timeoutMs, () => new RenderTimeoutError(timeoutMs)).catch((error: unknown) => {
      void opening.then(
        ({ context: late }) => closeContext(late),
        () => undefined,
      );
      throw error;
    });
    slot.context = context;
    page.on('crash', () => {
      slot.crashed = true;
      crashes.inc({ kind: 'page' });
      this.logger.warn({ slot: slot.id }, 'A browser page crashed; it will be replaced');
    });
    slot.page = page;
    slot.generation = generation;
    slot.crashed = false;
    slot.template = undefined;
    const template = this.templates.get(templateName)!;
    try {
      await withTimeout(template.prepare(page), timeoutMs, () => new RenderTimeoutError(timeoutMs));
    } catch (error) {
      await this.discardPage(slot);
      throw this.classify(error, slot, generation);
    }
    slot.template = templateName;
    return page;
  }

  /** A fresh context (requests to anything but local protocols blocked) and its page; the context is closed on failure. */
  private async openPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, deviceScaleFactor: 1 });
    try {
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (LOCAL_PROTOCOLS.has(protocolOf(url))) return route.continue();
        blockedRequests.inc();
        this.logger.warn({ url: url.slice(0, 200) }, 'Blocked a page request to a non-local URL');
        return route.abort('blockedbyclient');
      });
      return { context, page: await context.newPage() };
    } catch (error) {
      await closeContext(context);
      throw error;
    }
  }

  private async runWithTimeout<T>(slot: Slot, page: Page, work: (page: Page) => Promise<T>, timeoutMs: number): Promise<T> {
    const generation = slot.generation;
    try {
      return await withTimeout(work(page), timeoutMs, () => new RenderTimeoutError(timeoutMs));
    } catch (error) {
      const classified = this.classify(error, slot, generation);
      // A page that hung or died holds nothing we can trust: the next lease gets a fresh one.
      if (classified instanceof RenderTimeoutError || classified instanceof BrowserCrashedError) await this.discardPage(slot);
      throw classified;
    }
  }

  private classify(error: unknown, slot: Slot, generation: number): unknown {
    if (error instanceof RenderTimeoutError || error instanceof BrowserCrashedError || error instanceof ServiceBusyError) return error;
    const browserGone = generation !== this.generation || !this.browser?.isConnected();
    const pageGone = slot.crashed || slot.page?.isClosed();
    const message = errorMessage(error);
    if (browserGone || pageGone || /Target (page, context or browser )?(has been )?closed|crash/i.test(message)) {
      return new BrowserCrashedError(browserGone ? 'browser disconnected' : 'page crashed');
    }
    return error;
  }

  private async discardPage(slot: Slot): Promise<void> {
    const context = slot.context;
    slot.page = undefined;
    slot.context = undefined;
    slot.template = undefined;
    slot.crashed = false;
    if (context) await closeContext(context);
  }

  private async ensureBrowser(): Promise<Browser> {
    if (this.browser?.isConnected()) return this.browser;
    if (this.closing) throw new BrowserUnavailableError('the service is shutting down');
    if (!this.config.browser.executablePath) throw new BrowserUnavailableError('no Chromium configured (BROWSER_EXECUTABLE_PATH)');
    this.launching ??= this.launch().finally(() => (this.launching = undefined));
    return this.launching;
  }

  private async launch(): Promise<Browser> {
    const started = Date.now();
    let browser: Browser;
    try {
      browser = await chromium.launch({
        executablePath: this.config.browser.executablePath,
        headless: true,
        args: CHROMIUM_ARGS,
        timeout: 30000,
        // Herald's shutdown closes the browser once HTTP requests and jobs have drained (beforeApplicationShutdown).
        // Playwright's own handlers would close it the moment a signal arrives, under renders still running, and on
        // SIGINT exit the process (code 130) before the drain; on SIGHUP theirs kept Herald running past a closed terminal.
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
    } catch (error) {
      throw new BrowserUnavailableError(
        `Chromium at ${this.config.browser.executablePath} did not start: ${(error as Error).message.split('\n')[0]}`,
      );
    }
    this.generation++;
    this.browser = browser;
    this.pid = await withTimeout(browserProcessId(browser), 5000, () => new Error('no answer')).catch(() => undefined);
    browser.on('disconnected', () => {
      if (this.browser !== browser) return;
      this.browser = undefined;
      this.generation++;
      if (!this.closing) {
        crashes.inc({ kind: 'browser' });
        this.logger.warn('Chromium disconnected; a new one starts on the next render');
      }
    });
    // Not `pid`: pino's own field names this process on every line, and a second `pid` key would hide it.
    this.logger.log({ chromiumPid: this.browserPid(), ms: Date.now() - started, version: browser.version() }, 'Chromium started');
    return browser;
  }
}

/**
 * One of a Chromium's processes as Chromium reports it: its kind ('browser', 'renderer', 'GPU' or a utility's service),
 * pid, and CPU seconds used since it started.
 */
export interface BrowserProcess {
  type: string;
  id: number;
  cpuTime: number;
}

/** A launched Chromium's processes: Playwright does not expose them, Chromium tells them over CDP. Empty if it cannot answer. */
/** The `Pss:` line of /proc/<pid>/smaps_rollup (Linux 4.14+), in bytes; undefined when the text has none. */
export function pssFromSmapsRollup(text: string): number | undefined {
  const kilobytes = /^Pss:\s+(\d+) kB$/m.exec(text)?.[1];
  return kilobytes === undefined ? undefined : Number(kilobytes) * 1024;
}

/** A process's PSS, or its RSS where smaps_rollup is missing (an older kernel); undefined elsewhere or once it is gone. */
function proportionalBytes(pid: number): number | undefined {
  try {
    const pss = pssFromSmapsRollup(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    if (pss !== undefined) return pss;
  } catch {
    // No smaps_rollup: fall back to RSS below.
  }
  return residentBytes(pid);
}

/** Resident set size of a process from /proc (Linux); undefined elsewhere or once it is gone. */
function residentBytes(pid: number): number | undefined {
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return Number.isFinite(pages) ? pages * PAGE_SIZE : undefined;
  } catch {
    return undefined;
  }
}

export async function browserProcesses(browser: Browser): Promise<BrowserProcess[]> {
  try {
    const session = await browser.newBrowserCDPSession();
    const info: { processInfo: BrowserProcess[] } = await session.send('SystemInfo.getProcessInfo');
    await session.detach();
    return info.processInfo;
  } catch {
    return [];
  }
}

async function browserProcessId(browser: Browser): Promise<number | undefined> {
  return (await browserProcesses(browser)).find((entry) => entry.type === 'browser')?.id;
}

function protocolOf(url: string): string {
  const colon = url.indexOf(':');
  return colon > 0 ? url.slice(0, colon + 1).toLowerCase() : '';
}

/** Closes a context, giving up after 2 s (a dead browser may never answer); never throws. */
async function closeContext(context: BrowserContext): Promise<void> {
  await settleWithin(context.close(), 2000);
}
