import { Injectable, OnModuleInit } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CDPSession, Page } from 'playwright-core';
import { BrowserCrashedError, BrowserPool, RenderTimeoutError } from '../browser/browser-pool';
import { ServiceBusyError } from '../common/errors';
import { telemetry } from '../common/telemetry';
import type { ChartInput, RenderedSize } from './chart-input';

export const METRICS_TEMPLATE = 'metrics-chart';

/** static/ sits two levels above this file both in src/metrics (ts-jest) and in dist/metrics (nest build). */
const TEMPLATE_DIR = resolve(__dirname, '..', '..', 'static', METRICS_TEMPLATE);

/** The viewport of a metrics page; a larger chart is captured beyond it rather than resizing the page. */
const VIEWPORT = { width: 1280, height: 1024 };

/** What templates/metrics-chart/main.ts puts on window. */
interface MetricsChartPage {
  herald: { render(input: ChartInput): Promise<RenderedSize>; warmUp(): Promise<void> };
}

// The render module's per-step histogram, labelled with this template, so one dashboard shows every template.
const stepSeconds = telemetry.histogram('herald_render_step_seconds', 'Duration of each rendering step (lease, patch, screenshot)', [
  'template',
  'step',
]);

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/**
 * Draws one chart in a warm page of the shared browser pool: the page already holds the template, so a chart is
 * one `window.herald.render(chart)` and one clipped CDP screenshot. (RenderModule's TemplateRenderer does the same
 * for Discord messages; this module keeps its own so it needs nothing from RenderModule but the pool.)
 */
@Injectable()
export class MetricsChartRenderer implements OnModuleInit {
  /** The built template's content hash: part of every key, so a new template draws charts anew. */
  readonly templateVersion: string;
  private readonly sessions = new WeakMap<Page, Promise<CDPSession>>();

  constructor(private readonly pool: BrowserPool) {
    const manifest = JSON.parse(readFileSync(join(TEMPLATE_DIR, 'manifest.json'), 'utf8')) as { version: string };
    this.templateVersion = manifest.version;
  }

  onModuleInit(): void {
    // Registered before the pool's bootstrap, so a warm page holds the chart template from the start.
    this.pool.registerTemplate({ name: METRICS_TEMPLATE, prepare: (page) => this.prepare(page) });
  }

  async render(chart: ChartInput): Promise<Buffer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.renderOnce(chart);
      } catch (error) {
        // A chart that hangs means an overloaded renderer, not a bad request: the client may retry.
        if (error instanceof RenderTimeoutError) throw new ServiceBusyError(`${error.message}; retry shortly`, 5);
        // The pool has already replaced the dead page or browser; one retry rides over a crash.
        if (!(error instanceof BrowserCrashedError) || attempt > 1) throw error;
      }
    }
  }

  private renderOnce(chart: ChartInput): Promise<Buffer> {
    const leaseStarted = process.hrtime.bigint();
    return this.pool.lease(METRICS_TEMPLATE, async (page) => {
      stepSeconds.observe({ template: METRICS_TEMPLATE, step: 'lease' }, seconds(leaseStarted));
      const patchStarted = process.hrtime.bigint();
      const size = await page.evaluate((input) => (window as unknown as MetricsChartPage).herald.render(input), chart);
      stepSeconds.observe({ template: METRICS_TEMPLATE, step: 'patch' }, seconds(patchStarted));
      const shotStarted = process.hrtime.bigint();
      const png = await this.screenshot(page, size);
      stepSeconds.observe({ template: METRICS_TEMPLATE, step: 'screenshot' }, seconds(shotStarted));
      return png;
    });
  }

  /** CDP's own clipped screenshot: no Playwright stability waits, and no viewport resize for a large chart. */
  private async screenshot(page: Page, size: RenderedSize): Promise<Buffer> {
    const session = await this.session(page);
    const { data } = (await session.send('Page.captureScreenshot', {
      format: 'png',
      clip: { x: 0, y: 0, width: size.width, height: size.height, scale: 1 },
      captureBeyondViewport: size.width > VIEWPORT.width || size.height > VIEWPORT.height,
      optimizeForSpeed: true,
    })) as { data: string };
    return Buffer.from(data, 'base64');
  }

  private session(page: Page): Promise<CDPSession> {
    let session = this.sessions.get(page);
    if (!session) {
      session = page.context().newCDPSession(page);
      this.sessions.set(page, session);
    }
    return session;
  }

  private async prepare(page: Page): Promise<void> {
    await page.setViewportSize(VIEWPORT);
    await page.goto(pathToFileURL(join(TEMPLATE_DIR, 'index.html')).href, { waitUntil: 'load' });
    await page.waitForFunction(() => typeof (window as unknown as Partial<MetricsChartPage>).herald?.render === 'function');
    await page.evaluate(() => (window as unknown as MetricsChartPage).herald.warmUp());
    await this.session(page);
  }
}
