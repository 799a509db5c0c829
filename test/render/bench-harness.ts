// What scripts/bench-render.mjs needs from Herald's own code (bundled by esbuild at bench time): the real
// BrowserPool + TemplateRenderer outside Nest, and the golden messages as ready-to-draw views.
import { Logger } from '@nestjs/common';
import { BrowserPool, type BrowserProcess } from '../../src/browser/browser-pool';
import { loadConfig } from '../../src/config/config';
import { fetchMessageImages } from '../../src/render/discord-message.images';
import { normaliseDiscordMessage } from '../../src/render/discord-message.normaliser';
import type { DiscordMessageView } from '../../src/render/discord-message.view';
import { ImageFetcher } from '../../src/browser/image-fetcher';
import { TemplateRenderer, type RenderedImage } from '../../src/browser/template-renderer';
import { startImageServer } from './image-server';
import { goldenMessages } from './messages';

// Where built templates live, and the pool's Chromium flags, viewport and screenshot parameters: every approach in
// the benchmark launches, lays out and captures exactly as Herald does.
export { STATIC_DIR, VIEWPORT, screenshotParams } from '../../src/browser/template-renderer';
export { CHROMIUM_ARGS, browserProcesses } from '../../src/browser/browser-pool';
/** The metrics-chart workload (test/metrics/bench-inputs.ts). */
export { metricsChartInputs } from '../metrics/bench-inputs';

export interface HeraldRenderer {
  render(template: string, input: unknown): Promise<RenderedImage>;
  /** The pool's Chromium processes and their CPU time so far. */
  processes(): Promise<BrowserProcess[]>;
  close(): Promise<void>;
}

const BENCH_ENV = { SYSTEM_TOKEN: 'bench-system-token-0123456789', LOG_LEVEL: 'error' };

/** The production render path (warm pool pages, DOM patch, clipped CDP screenshot) with no cache in front. */
export async function startHeraldRenderer(poolSize: number): Promise<HeraldRenderer> {
  Logger.overrideLogger(['error']);
  const config = loadConfig({ ...BENCH_ENV, BROWSER_POOL_SIZE: String(poolSize), RENDER_QUEUE_SIZE: '1000' });
  const pool = new BrowserPool(config);
  const renderer = new TemplateRenderer(pool);
  renderer.registerTemplate('discord-message');
  renderer.registerTemplate('metrics-chart');
  await pool.onApplicationBootstrap();
  return {
    render: (template, input) => renderer.render(template, input),
    processes: () => pool.processes(),
    close: () => pool.beforeApplicationShutdown(),
  };
}

/** The golden messages, normalised and with their pictures fetched (from the local CDN stand-in), as the page takes them. */
export async function discordMessageViews(): Promise<DiscordMessageView[]> {
  Logger.overrideLogger(['error']);
  const cdn = await startImageServer();
  try {
    const config = loadConfig({ ...BENCH_ENV, RENDER_FETCH_ALLOWLIST: cdn.host, RENDER_FETCH_TIMEOUT_MS: '500' });
    const fetcher = new ImageFetcher(config);
    const now = new Date('2024-05-01T12:34:00Z');
    return await Promise.all(
      Object.values(goldenMessages(cdn.url)).map((message) =>
        fetchMessageImages(normaliseDiscordMessage(message, { now }), (source) => fetcher.fetchInline(source)),
      ),
    );
  } finally {
    await cdn.close();
  }
}
