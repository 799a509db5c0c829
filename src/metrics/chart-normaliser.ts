import { createHash } from 'node:crypto';
import type { ChartInput, ChartPoint, ChartSeries, ChartThreshold } from './chart-input';
import type { ChartDto, ChartSeriesDto, ChartThresholdDto, WirePoint } from './metrics-image.dto';
import type { ChartLimits } from './chart-rules';

/** Below this a timestamp is Unix seconds (10^11 ms is 1973; 10^11 s is the year 5138). */
const SECONDS_BELOW = 1e11;

const DEFAULT_SIZE = { chart: { width: 800, height: 400 }, stat: { width: 400, height: 200 } };

/** The chart the template draws and the key hashes: defaults filled, times in ms, points in time order. */
export function normaliseChart(chart: ChartDto, limits: Pick<ChartLimits, 'maxWidth' | 'maxHeight'>): ChartInput {
  const { width, height } = chartSize(chart, limits);
  return {
    title: chart.title.trim(),
    unit: (chart.unit ?? '').trim(),
    kind: chart.kind,
    series: chart.series.map(normaliseSeries),
    thresholds: (chart.thresholds ?? []).map(normaliseThreshold),
    width,
    height,
    theme: chart.theme ?? 'dark',
    ...scaleOf(chart.scale),
  };
}

/** The chart's size in CSS pixels (defaults filled) and its scale as drawn (quarter steps). */
export function chartSize(
  chart: Pick<ChartDto, 'kind' | 'width' | 'height' | 'scale'>,
  limits: Pick<ChartLimits, 'maxWidth' | 'maxHeight'>,
): { width: number; height: number; scale: number } {
  const defaults = chart.kind === 'stat' ? DEFAULT_SIZE.stat : DEFAULT_SIZE.chart;
  return {
    width: chart.width ?? Math.min(defaults.width, limits.maxWidth),
    height: chart.height ?? Math.min(defaults.height, limits.maxHeight),
    scale: scaleOf(chart.scale).scale ?? 1,
  };
}

/**
 * Why the PNG would have more pixels than METRICS_MAX_PIXELS (width × scale by height × scale), or null. Drawing time
 * and memory grow with the PNG's real pixels, so `scale: 3` on a large chart is refused rather than drawn for seconds.
 */
export function pixelBudgetProblem(
  chart: Pick<ChartDto, 'kind' | 'width' | 'height' | 'scale'>,
  limits: Pick<ChartLimits, 'maxWidth' | 'maxHeight' | 'maxPixels'>,
): string | null {
  const { width, height, scale } = chartSize(chart, limits);
  const png = { width: Math.ceil(width * scale), height: Math.ceil(height * scale) };
  const pixels = png.width * png.height;
  if (pixels <= limits.maxPixels) return null;
  const largestScale = Math.floor(Math.sqrt(limits.maxPixels / (width * height)) * 4) / 4;
  const fix =
    largestScale >= 1
      ? `use scale ${largestScale} or less at ${width}×${height}, or a smaller chart`
      : `a ${width}×${height} chart is over it even at scale 1: make it smaller`;
  return (
    `scale ${scale} makes a ${png.width}×${png.height} PNG (${pixels.toLocaleString('en-US')} pixels), ` +
    `more than METRICS_MAX_PIXELS (${limits.maxPixels.toLocaleString('en-US')}): ${fix}`
  );
}

function scaleOf(scale: number | undefined): { scale?: number } {
  const rounded = Math.min(3, Math.max(1, Math.round((scale ?? 1) * 4) / 4));
  return rounded === 1 ? {} : { scale: rounded };
}

function normaliseSeries(series: ChartSeriesDto): ChartSeries {
  const points = (series.points ?? []).map(normalisePoint);
  // Stable sort: two samples at one timestamp keep the order they came in.
  points.sort((a, b) => a[0] - b[0]);
  return {
    name: series.name.trim(),
    points,
    values: (series.values ?? []).map(({ label, value }) => ({ label: label.trim(), value })),
    color: series.color?.toLowerCase() ?? null,
  };
}

function normalisePoint([time, value]: WirePoint): ChartPoint {
  const ms = time < SECONDS_BELOW ? time * 1000 : time;
  const number = value === null ? NaN : Number(value);
  return [Math.round(ms), Number.isFinite(number) ? number : null];
}

function normaliseThreshold(threshold: ChartThresholdDto): ChartThreshold {
  return {
    value: threshold.value,
    label: (threshold.label ?? '').trim(),
    level: threshold.level ?? 'warning',
    direction: threshold.direction ?? 'above',
    color: threshold.color?.toLowerCase() ?? null,
  };
}

/**
 * `metrics/<sha256>.png` over the template version and the normalised chart: the same chart drawn by the
 * same template is the same object, so a repeated request finds it instead of rendering again.
 */
export function chartKey(templateVersion: string, chart: ChartInput): string {
  // normaliseChart builds every object with its keys in one fixed order, so this JSON is canonical.
  const digest = createHash('sha256').update(templateVersion).update('\0').update(JSON.stringify(chart)).digest('hex');
  return `metrics/${digest}.png`;
}
