import { Inject, Injectable, Logger } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CDPSession, Page } from 'playwright';
import { APP_CONFIG, type AppConfig, type PngEncoding } from '../config/config';
import { BrowserCrashedError, BrowserPool, RenderTimeoutError } from './browser-pool';
import { telemetry } from '../telemetry/telemetry';
import type { RenderedSize } from './template-page';

/** Built templates live in static/<name>/ (see scripts/build-templates.mjs); same path from src/ and dist/. */
export const STATIC_DIR = resolve(__dirname, '..', '..', 'static');

export interface RenderedImage {
  png: Buffer;
  width: number;
  height: number;
}

interface TemplateManifest {
  template: string;
  version: string;
}

/** Pages keep the pool's viewport width; tall renders are captured beyond it instead of resizing the page. */
export const VIEWPORT = { width: 1280, height: 1024 };

/**
 * CDP's own screenshot of just the box a render reports: no full-page capture, no Playwright stability waits. The
 * render benchmark's floors take their screenshots with the same parameters. `fast` is Chromium's optimizeForSpeed
 * PNG encoding (RENDER_PNG_ENCODING; the benchmark measures both).
 */
export function screenshotParams(size: RenderedSize, scale = 1, encoding: PngEncoding = 'compact') {
  const width = Math.max(1, Math.ceil(size.width));
  const height = Math.max(1, Math.ceil(size.height));
  return {
    format: 'png' as const,
    // The clip's scale redraws the page at that device pixel ratio: text and vector stay sharp at 2x.
    clip: { x: 0, y: 0, width, height, scale },
    captureBeyondViewport: width * scale > VIEWPORT.width || height * scale > VIEWPORT.height,
    optimizeForSpeed: encoding === 'fast',
  };
}

/** Per-step render durations; RenderService adds the `images` step (fetching pictures) to the same histogram. */
export const renderStepSeconds = telemetry.histogram(
  'herald_render_step_seconds',
  'Duration of each rendering step (lease, images, patch, screenshot)',
  ['template', 'step'],
);
const renders = telemetry.counter('herald_renders_total', 'Template renders by outcome', ['template', 'outcome']);

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/** What a render calls on the page's `window.herald` (bound as `this`), with the input as one JSON string. */
const RENDER_FUNCTION = 'function (json) { return this.render(JSON.parse(json)); }';

interface PageHandle {
  session: CDPSession;
  /** Remote object id of the page's window.herald: valid for the page's life (it never navigates after prepare). */
  herald: string;
}

interface HeraldPage {
  herald?: { render?: (input: unknown) => Promise<RenderedSize>; warmUp?: () => Promise<unknown> };
}

/**
 * Renders a built template in a warm pool page: the page already holds the template, so a render is one DOM patch
 * (`window.herald.render(input)`, which answers the box size) and one clipped CDP screenshot. A feature registers
 * each template it draws (built into static/<name>/) with `registerTemplate` while modules initialise, so the pool
 * warms its pages with it from the start.
 */
@Injectable()
export class TemplateRenderer {
  private readonly logger = new Logger(TemplateRenderer.name);
  private readonly versions = new Map<string, string>();
  private readonly handles = new WeakMap<Page, Promise<PageHandle>>();

  constructor(
    private readonly pool: BrowserPool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The built template's content hash: part of every cache key, so a template change never serves stale images. */
  version(template: string): string {
    const version = this.versions.get(template);
    if (!version) throw new Error(`Template "${template}" is not registered (call registerTemplate while modules initialise)`);
    return version;
  }

  /** Registers static/<template>/ with the pool (once) and answers its version. */
  registerTemplate(template: string): string {
    const known = this.versions.get(template);
    if (known) return known;
    if (!/^[a-z0-9-]+$/.test(template)) throw new Error(`Invalid template name "${template}"`);
    const dir = join(STATIC_DIR, template);
    if (!existsSync(join(dir, 'manifest.json')) || !existsSync(join(dir, 'index.html'))) {
      throw new Error(`Unknown template "${template}": static/${template}/ is not built (npm run build:templates)`);
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as TemplateManifest;
    const url = pathToFileURL(join(dir, 'index.html')).href;
    this.pool.registerTemplate({ name: template, prepare: (page) => this.prepare(page, url) });
    this.versions.set(template, manifest.version);
    this.logger.log({ template, version: manifest.version }, 'Render template registered');
    return manifest.version;
  }

  /** One render at `scale` device pixels per CSS pixel; a crashed page or browser is replaced and the render tried once more. */
  async render(template: string, input: unknown, scale = 1): Promise<RenderedImage> {
    this.version(template);
    try {
      const image = await this.renderOnce(template, input, scale);
      renders.inc({ template, outcome: 'rendered' });
      return image;
    } catch (error) {
      if (!(error instanceof BrowserCrashedError)) {
        renders.inc({ template, outcome: error instanceof RenderTimeoutError ? 'timeout' : 'failed' });
        throw error;
      }
      this.logger.warn({ template, reason: error.message }, 'Browser crashed during a render; retrying once');
      try {
        const image = await this.renderOnce(template, input, scale);
        renders.inc({ template, outcome: 'retried' });
        return image;
      } catch (retryError) {
        renders.inc({ template, outcome: 'failed' });
        throw retryError;
      }
    }
  }

  private async renderOnce(template: string, input: unknown, scale: number): Promise<RenderedImage> {
    const leaseStarted = process.hrtime.bigint();
    return this.pool.lease(template, async (page) => {
      renderStepSeconds.observe({ template, step: 'lease' }, seconds(leaseStarted));

      const patchStarted = process.hrtime.bigint();
      const size = await this.patch(page, input);
      renderStepSeconds.observe({ template, step: 'patch' }, seconds(patchStarted));

      const shotStarted = process.hrtime.bigint();
      const png = await this.screenshot(page, size, scale);
      renderStepSeconds.observe({ template, step: 'screenshot' }, seconds(shotStarted));
      return { png, width: Math.ceil(size.width * scale), height: Math.ceil(size.height * scale) };
    });
  }

  /**
   * Calls `window.herald.render(input)` over the page's own CDP session in one round trip. The input travels as one
   * JSON string argument of a fixed function that hands it to JSON.parse: data, never code. (Evaluating an expression
   * that carries the input as a literal made V8 parse and compile a new 20-40 KB script per render: ~2.4 ms more CPU.)
   */
  private async patch(page: Page, input: unknown): Promise<RenderedSize> {
    const { session, herald } = await this.handle(page);
    const { result, exceptionDetails } = (await session.send('Runtime.callFunctionOn', {
      objectId: herald,
      functionDeclaration: RENDER_FUNCTION,
      arguments: [{ value: JSON.stringify(input) }],
      awaitPromise: true,
      returnByValue: true,
    })) as { result: { value?: RenderedSize }; exceptionDetails?: { text: string; exception?: { description?: string } } };
    if (exceptionDetails) throw new Error(`The template failed to render: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
    const size = result.value;
    if (!size || !(size.width > 0) || !(size.height > 0)) throw new Error('The template rendered nothing (window.herald.render answered no size)');
    return size;
  }

  private async screenshot(page: Page, size: RenderedSize, scale: number): Promise<Buffer> {
    const { session } = await this.handle(page);
    const { data } = await session.send('Page.captureScreenshot', screenshotParams(size, scale, this.config.browser.pngEncoding));
    return Buffer.from(data, 'base64');
  }

  /** The page's CDP session and a handle on its `window.herald`, made once when the page is prepared. */
  private handle(page: Page): Promise<PageHandle> {
    let handle = this.handles.get(page);
    if (!handle) {
      handle = (async () => {
        const session = await page.context().newCDPSession(page);
        const { result } = (await session.send('Runtime.evaluate', { expression: 'window.herald' })) as { result: { objectId?: string } };
        if (!result.objectId) throw new Error('The template defines no window.herald');
        return { session, herald: result.objectId };
      })();
      this.handles.set(page, handle);
      handle.catch(() => this.handles.delete(page));
    }
    return handle;
  }

  private async prepare(page: Page, url: string): Promise<void> {
    await page.setViewportSize(VIEWPORT);
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => typeof (window as unknown as HeraldPage).herald?.render === 'function');
    // Templates may offer a warm-up render (fonts, highlighter, JIT) so the first real render is not the slow one.
    await page.evaluate(() => (window as unknown as HeraldPage).herald?.warmUp?.());
    await this.handle(page);
  }
}
