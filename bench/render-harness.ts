// What bench/render.mjs needs from Herald's own code (bundled by esbuild at bench time): the real
// BrowserPool + TemplateRenderer outside Nest, and the golden messages as ready-to-draw views.
import { Logger } from '@nestjs/common';
import { BrowserPool, type BrowserProcess } from '../src/browser/browser-pool';
import { loadConfig } from '../src/config/config';
import { fetchMessageImages } from '../src/render/discord-message.images';
import { normaliseDiscordConversation, normaliseDiscordMessage } from '../src/render/discord-message.normaliser';
import type { DiscordConversationView, DiscordMessageView } from '../src/render/discord-message.view';
import { ImageFetcher } from '../src/browser/image-fetcher';
import { TemplateRenderer, type RenderedImage } from '../src/browser/template-renderer';
import { startImageServer } from '../test/render/image-server';
import type { ChartInput } from '../src/metrics/chart-input';
import { normaliseChart } from '../src/metrics/chart-normaliser';
import { DashboardSources } from '../src/metrics/dashboard-sources';
import { goldenConversations, goldenMessages } from '../test/render/messages';

// Where built templates live, and the pool's Chromium flags, viewport and screenshot parameters: every approach in
// the benchmark launches, lays out and captures exactly as Herald does.
export { STATIC_DIR, VIEWPORT, screenshotParams } from '../src/browser/template-renderer';
export { CHROMIUM_ARGS, browserProcesses } from '../src/browser/browser-pool';
/** The metrics-chart workload (bench/metrics-inputs.ts). */
export { metricsChartInputs } from './metrics-inputs';

export interface HeraldRenderer {
  render(template: string, input: unknown, scale?: number): Promise<RenderedImage>;
  /** The pool's Chromium processes and their CPU time so far. */
  processes(): Promise<BrowserProcess[]>;
  /** How many warm pages hold each template (the pool re-prepares pages as the traffic mix changes). */
  pages(): Record<string, number>;
  close(): Promise<void>;
}

const BENCH_ENV = { SYSTEM_TOKEN: 'bench-system-token-0123456789', LOG_LEVEL: 'error' };

/**
 * The production render path (warm pool pages, DOM patch, clipped CDP screenshot) with no cache in front, encoding
 * PNGs as RENDER_PNG_ENCODING would.
 */
export async function startHeraldRenderer(poolSize: number, pngEncoding: 'compact' | 'fast' = 'compact'): Promise<HeraldRenderer> {
  Logger.overrideLogger(['error']);
  const config = loadConfig({
    ...BENCH_ENV,
    BROWSER_POOL_SIZE: String(poolSize),
    RENDER_QUEUE_SIZE: '1000',
    RENDER_TIMEOUT_MS: '60000',
    RENDER_PNG_ENCODING: pngEncoding,
  });
  const pool = new BrowserPool(config);
  const renderer = new TemplateRenderer(pool, config);
  renderer.registerTemplate('discord-message');
  renderer.registerTemplate('metrics-chart');
  await pool.onApplicationBootstrap();
  return {
    render: (template, input, scale = 1) => renderer.render(template, input, scale),
    processes: () => pool.processes(),
    pages: () => pool.pagesByTemplate(),
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

/** The 10-message conversation golden, normalised and with its pictures fetched, as the page takes it. */
export async function discordConversationViews(): Promise<DiscordConversationView[]> {
  Logger.overrideLogger(['error']);
  const cdn = await startImageServer();
  try {
    const config = loadConfig({ ...BENCH_ENV, RENDER_FETCH_ALLOWLIST: cdn.host, RENDER_FETCH_TIMEOUT_MS: '500' });
    const fetcher = new ImageFetcher(config);
    const conversation = normaliseDiscordConversation(goldenConversations(cdn.url)['conversation-10'], { now: new Date('2024-05-01T15:00:00Z') });
    const look = { width: conversation.width, theme: conversation.theme, locale: conversation.locale, timeZone: conversation.timeZone };
    const messages = await Promise.all(
      conversation.messages.map(async ({ grouped, dateSeparator, newMessages, ...message }) => {
        const {
          width: _w,
          theme: _t,
          locale: _l,
          timeZone: _z,
          ...view
        } = await fetchMessageImages({ ...message, ...look }, (source) => fetcher.fetchInline(source));
        return { ...view, grouped, dateSeparator, newMessages };
      }),
    );
    return [{ ...conversation, messages }];
  } finally {
    await cdn.close();
  }
}

/**
 * The dashboard workload: 10 Prometheus-fed panels, their data fetched by Herald's own DashboardSources (query_range,
 * legend names) and normalised as DashboardService does, ready for the metrics-chart template.
 */
export function dashboardPanels(prometheusUrl: string): { fetchInputs(): Promise<ChartInput[]> } {
  const config = loadConfig({ ...BENCH_ENV, METRICS_PROMETHEUS_URL: prometheusUrl });
  const sources = new DashboardSources(config);
  const kinds = ['line', 'area', 'bar', 'stat', 'line', 'area', 'line', 'stat', 'bar', 'line'] as const;
  const panels = kinds.map((kind, index) => ({
    title: `Panel ${index + 1}`,
    kind,
    query: kind === 'stat' ? 'sum(bench_requests_per_second)' : 'bench_requests_per_second',
  }));
  return {
    fetchInputs: () =>
      Promise.all(
        panels.map(async ({ title, kind, query }) => {
          const series = await sources.series(
            { type: 'prometheus', query, rangeSeconds: 60, stepSeconds: 2, legend: '{{instance}}' },
            title,
            new Date(),
          );
          return normaliseChart({ title, kind, series }, config.metrics);
        }),
      ),
  };
}
