import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { createHash, randomUUID } from 'node:crypto';
import { BackendCallbacks } from '../backend/backend-callbacks';
import type { DashboardCallback, DashboardPanelCallback } from '../backend/dashboard-callback';
import { isDuplicateKey } from '../common/duplicate-key';
import { validationFailure } from '../common/validation';
import { APP_CONFIG, AppConfig } from '../config/config';
import { ObjectStorage, type ObjectHead } from '../storage/object-storage';
import { telemetry } from '../telemetry/telemetry';
import type { ChartInput } from './chart-input';
import { normaliseChart } from './chart-normaliser';
import { DashboardCatalog } from './dashboard-catalog';
import { DashboardPanelState } from './dashboard.schemas';
import { DashboardSources, queryWindow, SourceError } from './dashboard-sources';
import { panelKey, type Dashboard, type DashboardPanel } from './dashboards-file';
import { MetricsChartRenderer } from './metrics-chart.renderer';
import type { ChartSeriesDto } from './metrics-image.dto';

const PNG = 'image/png';
/** S3 user metadata holding the hash of what the picture shows: the same hash means nothing to draw or write. */
const INPUT_HASH = 'herald-input-sha256';
/**
 * S3 user metadata holding when Herald stored the picture (ISO 8601, ms). S3's Last-Modified has whole seconds and is
 * S3's clock, so a panel answered from it later would read differently from the answer of the render that wrote it.
 */
const UPDATED_AT = 'herald-updated-at';
const REASON_MAX = 300;

const panelsTotal = telemetry.counter(
  'herald_metrics_dashboard_panels_total',
  'Dashboard panels rendered, by dashboard and outcome (rendered, unchanged, no-data)',
  ['dashboard', 'outcome'],
);
const renderSeconds = telemetry.histogram('herald_metrics_dashboard_render_seconds', 'Time to render a whole dashboard', ['dashboard', 'trigger']);

/** One panel of a rendered dashboard, as POST /metrics/image answers it: what the backend is told, and the ETag. */
export interface PanelImage extends DashboardPanelCallback {
  etag?: string;
}

export type RenderTrigger = 'api' | 'schedule';

/**
 * Renders configured dashboards: fetches each panel's data, draws it (or a "no data: <reason>" panel), and keeps it at
 * the stable key METRICS_S3_KEY_TEMPLATE gives (`metrics/<dashboard>/<panel id>.png`), rewritten only when what it shows changed. After each render
 * the backend is told through the outbox (when BACKEND_URL is set).
 */
@Injectable()
export class DashboardService {
  private readonly logger = new Logger(DashboardService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly catalog: DashboardCatalog,
    private readonly sources: DashboardSources,
    private readonly storage: ObjectStorage,
    private readonly renderer: MetricsChartRenderer,
    private readonly backend: BackendCallbacks,
    @InjectModel(DashboardPanelState.name) private readonly states: Model<DashboardPanelState>,
  ) {}

  /** The dashboard a request names, or the first one; a 400 naming `dashboard` otherwise. */
  resolve(name: string | undefined): Dashboard {
    const known = this.catalog.dashboards.map((dashboard) => dashboard.name);
    if (known.length === 0) {
      throw badDashboard('no dashboards are configured (METRICS_DASHBOARDS_FILE); send "charts" to draw charts from numbers');
    }
    if (name === undefined) return this.catalog.dashboards[0];
    const dashboard = this.catalog.find(name);
    if (!dashboard) throw badDashboard(`unknown dashboard "${name}"; configured: ${known.join(', ')}`);
    return dashboard;
  }

  /**
   * Renders every panel (a failed source draws a "no data" panel; the others still render) and tells the backend.
   * `renderId` makes the backend callback idempotent: a schedule tick run twice (after a crash) is told once.
   */
  async render(dashboard: Dashboard, trigger: RenderTrigger, renderId: string = randomUUID()): Promise<Record<string, PanelImage>> {
    const started = process.hrtime.bigint();
    const now = new Date();
    const images = await Promise.all(dashboard.panels.map((panel) => this.renderPanel(dashboard, panel, now)));
    const answer = Object.fromEntries(dashboard.panels.map((panel, index) => [panel.id, images[index]]));
    renderSeconds.observe({ dashboard: dashboard.name, trigger }, Number(process.hrtime.bigint() - started) / 1e9);
    const failures = Object.fromEntries(
      dashboard.panels.flatMap((panel, index) => (images[index].error !== undefined ? [[panel.id, images[index].error]] : [])),
    );
    const failed = Object.keys(failures).length;
    const summary = {
      dashboard: dashboard.name,
      trigger,
      changed: images.filter((image) => image.changed).length,
      failed,
      ms: Math.round(Number(process.hrtime.bigint() - started) / 1e6),
    };
    if (failed === 0) this.logger.log(summary, 'Rendered metrics dashboard');
    else {
      // Each failed panel with its reason: the same "no data: <reason>" the picture shows, readable without opening it.
      this.logger.warn(
        { ...summary, failures },
        `Rendered metrics dashboard "${dashboard.name}" with ${failed} of ${images.length} panels showing no data`,
      );
    }
    if (this.backend.enabled) await this.tellBackend(dashboard, trigger, renderId, now, answer);
    return answer;
  }

  /** Each dashboard with its panels and their last render, for GET /metrics/dashboards. */
  async overview() {
    const states = await this.states.find().lean<DashboardPanelState[]>();
    const byId = new Map(states.map((state) => [state._id, state]));
    return this.catalog.dashboards.map((dashboard) => ({
      name: dashboard.name,
      schedule: dashboard.schedule ?? null,
      panels: dashboard.panels.map((panel) => {
        const state = byId.get(`${dashboard.name}/${panel.id}`);
        return {
          id: panel.id,
          title: panel.chart.title,
          kind: panel.chart.kind,
          source: panel.source.type,
          key: this.keyOf(dashboard, panel),
          lastRender: state
            ? {
                renderedAt: state.renderedAt.toISOString(),
                updatedAt: state.updatedAt.toISOString(),
                etag: state.etag,
                bytes: state.bytes,
                error: state.error,
              }
            : null,
        };
      }),
    }));
  }

  /** The stored key of a configured panel; a 404 for an unknown dashboard or panel. */
  panelKey(name: string, panelId: string): string {
    const dashboard = this.catalog.find(name);
    if (!dashboard) throw new NotFoundException(`No dashboard "${name}"`);
    const panel = dashboard.panels.find((item) => item.id === panelId);
    if (!panel)
      throw new NotFoundException(`Dashboard "${name}" has no panel "${panelId}"; it has ${dashboard.panels.map((item) => item.id).join(', ')}`);
    return this.keyOf(dashboard, panel);
  }

  private keyOf(dashboard: Dashboard, panel: DashboardPanel): string {
    return panelKey(this.config.metrics.panelKeyTemplate, dashboard.name, panel.id);
  }

  private async renderPanel(dashboard: Dashboard, panel: DashboardPanel, now: Date): Promise<PanelImage> {
    let series: ChartSeriesDto[] = [];
    let error: string | undefined;
    try {
      series = await this.sources.series(panel.source, panel.chart.title, now);
      this.checkSeries(panel, series);
    } catch (failure) {
      if (!(failure instanceof SourceError)) throw failure;
      error = failure.message.slice(0, REASON_MAX);
    }
    const chart: ChartInput = normaliseChart({ ...panel.chart, series: error === undefined ? series : [] }, this.config.metrics);
    if (error !== undefined) chart.noData = error;
    else if (panel.source.type === 'prometheus' && chart.kind !== 'stat') {
      // A "6d" panel over two minutes of data shows six days with the data at the end, not two minutes filling it.
      const { start, end } = queryWindow(panel.source, now);
      chart.timeRange = { from: start * 1000, to: end * 1000 };
    }
    const key = this.keyOf(dashboard, panel);
    const digest = createHash('sha256').update(this.renderer.templateVersion).update('\0').update(JSON.stringify(chart)).digest('hex');

    const scale = chart.scale ?? 1;
    const size = { width: Math.ceil(chart.width * scale), height: Math.ceil(chart.height * scale) };
    const head = await this.storage.head(key);
    let stored: { bytes: number; etag?: string; updatedAt: Date; changed: boolean };
    if (head && head.metadata[INPUT_HASH] === digest) {
      stored = { bytes: head.bytes, etag: head.etag, updatedAt: storedAt(head) ?? now, changed: false };
      panelsTotal.inc({ dashboard: dashboard.name, outcome: 'unchanged' });
    } else {
      const png = await this.renderer.render(chart);
      // A stat panel's value is stamped with the time it was read, so its input differs on every render while the
      // picture may not: the same bytes as stored (S3's ETag of a single-part object is their MD5) are not rewritten.
      if (head && head.etag?.replaceAll('"', '') === createHash('md5').update(png).digest('hex')) {
        stored = { bytes: head.bytes, etag: head.etag, updatedAt: storedAt(head) ?? now, changed: false };
        panelsTotal.inc({ dashboard: dashboard.name, outcome: 'unchanged' });
      } else {
        const put = await this.storage.put(key, png, PNG, {
          cacheControl: `public, max-age=${this.config.metrics.dashboardMaxAgeSeconds}`,
          metadata: { [INPUT_HASH]: digest, [UPDATED_AT]: now.toISOString() },
        });
        stored = { bytes: put.bytes, etag: put.etag, updatedAt: now, changed: true };
        panelsTotal.inc({ dashboard: dashboard.name, outcome: error === undefined ? 'rendered' : 'no-data' });
      }
    }
    await this.record(dashboard, panel, key, now, stored, error);
    const image: PanelImage = {
      ...this.storage.locate(key),
      key,
      ...size,
      bytes: stored.bytes,
      updatedAt: stored.updatedAt.toISOString(),
      ...(stored.etag ? { etag: stored.etag } : {}),
      changed: stored.changed,
      ...(error !== undefined ? { error } : {}),
    };
    const ttl = this.config.metrics.presignTtlSeconds;
    if (ttl > 0) image.url = await this.storage.presign(key, ttl);
    return image;
  }

  /** What a source answered must fit the limits POST /metrics/image has; otherwise the panel says why it is empty. */
  private checkSeries(panel: DashboardPanel, series: ChartSeriesDto[]): void {
    const { maxSeries, maxPoints } = this.config.metrics;
    if (panel.chart.kind === 'stat' && series.length !== 1) {
      throw new SourceError(`a stat panel shows one series; the source returned ${series.length}`);
    }
    if (series.length > maxSeries) throw new SourceError(`${series.length} series, more than METRICS_MAX_SERIES (${maxSeries})`);
    const longest = Math.max(...series.map((item) => item.points?.length ?? 0));
    if (longest > maxPoints) throw new SourceError(`${longest} points in a series, more than METRICS_MAX_POINTS (${maxPoints})`);
  }

  private async record(
    dashboard: Dashboard,
    panel: DashboardPanel,
    key: string,
    now: Date,
    stored: { bytes: number; etag?: string; updatedAt: Date },
    error: string | undefined,
  ): Promise<void> {
    const _id = `${dashboard.name}/${panel.id}`;
    const state = {
      dashboard: dashboard.name,
      panel: panel.id,
      key,
      renderedAt: now,
      updatedAt: stored.updatedAt,
      etag: stored.etag ?? null,
      bytes: stored.bytes,
      error: error ?? null,
    };
    try {
      await this.states.replaceOne({ _id }, state, { upsert: true });
    } catch (failure) {
      // Two first renders of one panel at once: both upserts inserted; the other's facts are as new as ours.
      if (!isDuplicateKey(failure)) throw failure;
    }
  }

  private async tellBackend(
    dashboard: Dashboard,
    trigger: RenderTrigger,
    renderId: string,
    now: Date,
    images: Record<string, PanelImage>,
  ): Promise<void> {
    const idempotencyKey = `metrics-dashboard:${dashboard.name}:${renderId}`;
    const panels = Object.fromEntries(
      Object.entries(images).map(([id, { etag: _etag, ...image }]) => {
        // The presigned URL runs out; the backend keeps what it is told, so it gets the public one (if any).
        const url = this.storage.publicUrl(image.key);
        const { url: _presigned, ...rest } = image;
        return [id, url ? { ...rest, url } : rest];
      }),
    );
    const payload: DashboardCallback = {
      event: 'dashboard.rendered',
      idempotencyKey,
      dashboard: dashboard.name,
      trigger,
      renderedAt: now.toISOString(),
      panels,
    };
    await this.backend.owe(payload);
  }
}

/** When the stored picture was written: Herald's own stamp, or S3's Last-Modified for an object written without it. */
export function storedAt(head: Pick<ObjectHead, 'lastModified' | 'metadata'>): Date | undefined {
  const stamped = head.metadata[UPDATED_AT] ? new Date(head.metadata[UPDATED_AT]) : null;
  if (stamped && !Number.isNaN(stamped.getTime())) return stamped;
  return head.lastModified;
}

function badDashboard(message: string): BadRequestException {
  return new BadRequestException(validationFailure([{ field: 'dashboard', messages: [message] }]));
}
