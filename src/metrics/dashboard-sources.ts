import { Inject, Injectable } from '@nestjs/common';
import { JSONPath } from 'jsonpath-plus';
import { APP_CONFIG, AppConfig } from '../config/config';
import { fetchWithinLimits, hostAllowed } from '../common/limited-fetch';
import { telemetry } from '../telemetry/telemetry';
import type { JsonSource, PanelSource, PrometheusSource } from './dashboards-file';
import { pointsProblem, type ChartSeriesDto, type WirePoint } from './metrics-image.dto';

const fetches = telemetry.counter('herald_metrics_source_fetches_total', 'Dashboard data-source fetches, by source type and outcome', [
  'type',
  'outcome',
]);

/** A data source answered nothing Herald can draw; the message is the panel's "no data: <reason>". */
export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

/** Prometheus' answer to /api/v1/query_range (https://prometheus.io/docs/prometheus/latest/querying/api/). */
interface PrometheusAnswer {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; values?: [number, string][] }[] };
}

const LEGEND_LABEL = /\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;

/**
 * A legend naming a label no series has (a typo: `{{instanc}}`) would name every series with the panel's title:
 * the panel says which label is missing and which the series have instead.
 */
export function checkLegendLabels(legend: string, seriesLabels: Record<string, string>[]): void {
  const missing = [...legend.matchAll(LEGEND_LABEL)].map((match) => match[1]).filter((label) => !seriesLabels.some((labels) => label in labels));
  if (missing.length === 0) return;
  const present = [...new Set(seriesLabels.flatMap((labels) => Object.keys(labels)))].sort();
  const named = [...new Set(missing)].map((label) => `{{${label}}}`).join(', ');
  throw new SourceError(`legend names ${named}, a label no series has; the series have ${present.length ? present.join(', ') : 'no labels'}`);
}

/** `{{label}}` placeholders filled from a series' labels; without a legend, the labels as Prometheus prints them. */
export function seriesName(labels: Record<string, string>, legend: string | undefined, fallback: string): string {
  if (legend !== undefined) {
    const name = legend.replace(LEGEND_LABEL, (_, label: string) => labels[label] ?? '').trim();
    return name || fallback;
  }
  const { __name__: metric, ...rest } = labels;
  const pairs = Object.entries(rest).map(([name, value]) => `${name}="${value}"`);
  const text = pairs.length ? `${metric ?? ''}{${pairs.join(', ')}}` : (metric ?? '');
  return text || fallback;
}

/**
 * Turns what a JSONPath picked into points: an array of `[timestamp, value]` pairs (one match holding them, or each
 * match a pair), or one number (a stat panel's current value, stamped `now`).
 */
export function pointsFromMatches(matches: unknown[], now: Date): WirePoint[] {
  if (matches.length === 0) throw new SourceError('the path matched nothing');
  const single = matches.length === 1 ? matches[0] : undefined;
  const isValue = (value: unknown) => typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)));
  if (isValue(single)) return [[Math.floor(now.getTime() / 1000), single as number | string]];
  // One match holding the pairs (`$.points`), or every match a pair (`$.points[*]`).
  const points = Array.isArray(single) && single.every((item) => Array.isArray(item)) ? single : matches;
  const problem = pointsProblem(points);
  if (problem) throw new SourceError(`the path must pick [timestamp, value] pairs or one number: ${problem}`);
  return points as WirePoint[];
}

/** The Unix seconds a Prometheus panel asks for: `[end - range, end]`, end being `now` rounded down to the step. */
export function queryWindow(source: PrometheusSource, now: Date): { start: number; end: number } {
  const end = Math.floor(now.getTime() / 1000 / source.stepSeconds) * source.stepSeconds;
  return { start: end - source.rangeSeconds, end };
}

/** Whether Herald may fetch a panel's data from `url`: METRICS_FETCH_ALLOWLIST, plus the host of METRICS_PROMETHEUS_URL. */
export function sourceHostAllowed(metrics: Pick<AppConfig['metrics'], 'prometheus' | 'fetchAllowlist'>, url: URL): boolean {
  const prometheusHost = metrics.prometheus ? new URL(metrics.prometheus.url).host.toLowerCase() : null;
  if (prometheusHost === url.host.toLowerCase() && (url.protocol === 'http:' || url.protocol === 'https:')) return true;
  return hostAllowed(url, metrics.fetchAllowlist);
}

/** Fetches a panel's data from Prometheus or a JSON endpoint: the one place dashboards reach outside Herald. */
@Injectable()
export class DashboardSources {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** METRICS_FETCH_ALLOWLIST, plus the host of METRICS_PROMETHEUS_URL. */
  isAllowed(url: URL): boolean {
    return sourceHostAllowed(this.config.metrics, url);
  }

  /** The series a panel draws, or a SourceError saying why there are none. */
  async series(source: PanelSource, fallbackName: string, now: Date): Promise<ChartSeriesDto[]> {
    try {
      const series = source.type === 'prometheus' ? await this.prometheus(source, fallbackName, now) : await this.json(source, fallbackName, now);
      fetches.inc({ type: source.type, outcome: 'fetched' });
      return series;
    } catch (error) {
      fetches.inc({ type: source.type, outcome: 'failed' });
      if (error instanceof SourceError) throw error;
      const reason =
        error instanceof Error ? (error.name === 'TimeoutError' ? `no answer within METRICS_FETCH_TIMEOUT_MS` : error.message) : String(error);
      // Prometheus is reached through one setting: name the URL it made, so a wrong METRICS_PROMETHEUS_URL shows.
      const where = source.type === 'prometheus' ? `Prometheus at ${this.queryRangeUrl()}` : 'JSON source';
      throw new SourceError(`${where}: ${describeCause(error, reason)}`);
    }
  }

  /** METRICS_PROMETHEUS_URL's query_range endpoint, as named in errors: without credentials or query. */
  private queryRangeUrl(): string {
    const url = new URL(`${this.config.metrics.prometheus?.url ?? ''}/api/v1/query_range`);
    return `${url.origin}${url.pathname}`;
  }

  /**
   * `query_range` over [end - range, end], with end aligned down to the step: two renders within one step ask for
   * the same points, so a dashboard whose data did not change draws the same picture (and rewrites nothing).
   */
  private async prometheus(source: PrometheusSource, fallbackName: string, now: Date): Promise<ChartSeriesDto[]> {
    const prometheus = this.config.metrics.prometheus;
    if (!prometheus) throw new SourceError('METRICS_PROMETHEUS_URL is not set');
    const { start, end } = queryWindow(source, now);
    const url = new URL(`${prometheus.url}/api/v1/query_range`);
    url.search = new URLSearchParams({
      query: source.query,
      start: String(start),
      end: String(end),
      step: String(source.stepSeconds),
    }).toString();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (prometheus.bearerToken) headers.authorization = `Bearer ${prometheus.bearerToken}`;
    else if (prometheus.basic) {
      headers.authorization = `Basic ${Buffer.from(`${prometheus.basic.username}:${prometheus.basic.password}`).toString('base64')}`;
    }
    // Prometheus answers 400 / 422 with a JSON body that says what is wrong with the query: read it.
    const response = await fetchWithinLimits(url, this.limits(headers), false);
    let answer: PrometheusAnswer;
    try {
      answer = JSON.parse(response.bytes.toString('utf8')) as PrometheusAnswer;
    } catch {
      const hint = response.status === 404 ? "; is METRICS_PROMETHEUS_URL the server's base URL, without /api/v1?" : '';
      throw new SourceError(`Prometheus at ${this.queryRangeUrl()}: HTTP ${response.status}, not a JSON answer${hint}`);
    }
    if (answer.status !== 'success') {
      throw new SourceError(`Prometheus: ${answer.errorType ?? `HTTP ${response.status}`}: ${answer.error ?? 'query failed'}`);
    }
    if (answer.data?.resultType !== 'matrix') throw new SourceError(`Prometheus: expected a matrix, got ${answer.data?.resultType ?? 'nothing'}`);
    const result = answer.data.result;
    if (result.length === 0) throw new SourceError('the query returned no series');
    if (source.legend !== undefined)
      checkLegendLabels(
        source.legend,
        result.map((item) => item.metric),
      );
    return result
      .map((item) => ({ name: seriesName(item.metric, source.legend, fallbackName).slice(0, 100), points: item.values ?? [] }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private async json(source: JsonSource, fallbackName: string, now: Date): Promise<ChartSeriesDto[]> {
    const response = await fetchWithinLimits(new URL(source.url), this.limits({ accept: 'application/json' }));
    let document: unknown;
    try {
      document = JSON.parse(response.bytes.toString('utf8'));
    } catch {
      throw new SourceError('JSON source: the answer is not JSON');
    }
    const matches = JSONPath({ path: source.path, json: document as object, eval: 'safe', wrap: true }) as unknown[];
    return [{ name: (source.legend ?? fallbackName).slice(0, 100), points: pointsFromMatches(matches, now) }];
  }

  private limits(headers: Record<string, string>) {
    return {
      isAllowed: (url: URL) => this.isAllowed(url),
      allowlistSetting: 'METRICS_FETCH_ALLOWLIST',
      maxBytes: this.config.metrics.fetchMaxBytes,
      maxBytesSetting: 'METRICS_FETCH_MAX_BYTES',
      signal: AbortSignal.timeout(this.config.metrics.fetchTimeoutMs),
      headers,
    };
  }
}

/** fetch() reports a refused connection as "fetch failed" with the reason in `cause`. */
function describeCause(error: unknown, fallback: string): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? fallback;
}
