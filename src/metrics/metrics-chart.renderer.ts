import { Injectable, OnModuleInit } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { BrowserCrashedError, BrowserPool, RenderTimeoutError } from '../browser/browser-pool';
import { ServiceBusyError } from '../common/errors';
import { telemetry } from '../common/telemetry';
import type { ChartInput, RenderedSize } from './chart-input';

export const METRICS_TEMPLATE = 'metrics-chart';

/** static/ sits two levels above this file both in src/metrics (ts-jest) and in dist/metrics (nest build). */
const TEMPLATE_DIR = resolve(__dirname, '..', '..', 'static', METRICS_TEMPLATE);

/** What templates/metrics-chart/main.ts puts on window. */
interface MetricsChartPage {
  herald: { render(input: ChartInput): Promise<RenderedSize> };
}

const stepSeconds = telemetry.histogram('herald_metrics_render_step_seconds', 'Time per step of rendering one metrics chart', [
  'step',
]);

/** Draws one chart in a warm page of the shared browser pool and screenshots it as PNG. */
@Injectable()
export class MetricsChartRenderer implements OnModuleInit {
  /** The built template's content hash: part of every key, so a new template draws charts anew. */
  readonly templateVersion: string;

  constructor(private readonly pool: BrowserPool) {
    const manifest = JSON.parse(readFileSync(join(TEMPLATE_DIR, 'manifest.json'), 'utf8')) as { version: string };
    this.templateVersion = manifest.version;
  }

  onModuleInit(): void {
    this.pool.registerTemplate({ name: METRICS_TEMPLATE, prepare: (page) => this.prepare(page) });
  }

  async render(chart: ChartInput): Promise<Buffer> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.renderOnce(chart);
      } catch (error) {
        // A chart that hangs means an overloaded renderer, not a bad request: the client may retry.
        if (error instanceof RenderTimeoutError) throw new ServiceBusyError(error.message, 5);
        // The pool has already replaced the dead page or browser; one retry rides over a crash.
        if (!(error instanceof BrowserCrashedError) || attempt > 1) throw error;
      }
    }
  }

  private renderOnce(chart: ChartInput): Promise<Buffer> {
    return this.pool.lease(METRICS_TEMPLATE, async (page) => {
      await fitViewport(page, chart);
      const drawn = process.hrtime.bigint();
      const size = await page.evaluate((input) => (window as unknown as MetricsChartPage).herald.render(input), chart);
      const shot = process.hrtime.bigint();
      stepSeconds.observe({ step: 'patch' }, Number(shot - drawn) / 1e9);
      const png = await page.screenshot({ type: 'png', clip: { x: 0, y: 0, width: size.width, height: size.height } });
      stepSeconds.observe({ step: 'screenshot' }, Number(process.hrtime.bigint() - shot) / 1e9);
      return png;
    });
  }

  private async prepare(page: Page): Promise<void> {
    await page.goto(pathToFileURL(join(TEMPLATE_DIR, 'index.html')).href, { waitUntil: 'load' });
    await page.waitForFunction(() => typeof (window as unknown as Partial<MetricsChartPage>).herald?.render === 'function');
  }
}

/** A screenshot is cut to the viewport, so a chart larger than the page's viewport grows the viewport first. */
async function fitViewport(page: Page, chart: ChartInput): Promise<void> {
  const viewport = page.viewportSize();
  if (viewport && viewport.width >= chart.width && viewport.height >= chart.height) return;
  await page.setViewportSize({
    width: Math.max(viewport?.width ?? 0, chart.width),
    height: Math.max(viewport?.height ?? 0, chart.height),
  });
}
