/**
 * The metrics chart page: `window.herald.render(chart)` lays out one panel of exactly
 * chart.width × chart.height CSS pixels at the top-left corner and resolves when it is painted.
 * User text only ever reaches the DOM as textContent or as ECharts SVG text, never as markup.
 */
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import { GridComponent, MarkAreaComponent, MarkLineComponent } from 'echarts/components';
import type { GridComponentOption, MarkAreaComponentOption, MarkLineComponentOption } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import type { ComposeOption } from 'echarts/core';
import type { ChartInput, ChartSeries, ChartThreshold, RenderedSize, ThresholdLevel } from '../../src/metrics/chart-input';
import { axisTicks, formatParts, formatScaled, formatValue } from './format';
import { FONT_FAMILY, PALETTES, type Palette } from './theme';

// SVG renderer: text and lines are vector, so the screenshot is crisp at any device scale factor,
// and the output does not depend on canvas anti-aliasing quirks between Chromium builds.
echarts.use([LineChart, BarChart, GridComponent, MarkLineComponent, MarkAreaComponent, SVGRenderer]);

type ChartOption = ComposeOption<
  LineSeriesOption | BarSeriesOption | GridComponentOption | MarkLineComponentOption | MarkAreaComponentOption
>;

interface Sizing {
  pad: number;
  title: number;
  axis: number;
  legend: number;
  line: number;
}

const LEVEL_RANK: Record<ThresholdLevel, number> = { ok: 0, info: 1, warning: 2, critical: 3 };

const panel = document.getElementById('panel') as HTMLDivElement;
let charts: echarts.ECharts[] = [];
let fontsLoaded: Promise<unknown> | undefined;

async function render(input: ChartInput): Promise<RenderedSize> {
  fontsLoaded ??= loadFonts();
  await fontsLoaded;
  for (const chart of charts) chart.dispose();
  charts = [];

  const palette = PALETTES[input.theme];
  const size = sizing(input.width, input.height);
  document.documentElement.dataset.theme = input.theme;
  panel.style.width = `${input.width}px`;
  panel.style.height = `${input.height}px`;
  panel.style.padding = `${size.pad}px`;
  panel.style.setProperty('--pad', `${size.pad}px`);
  panel.style.setProperty('--title-size', `${size.title}px`);
  panel.style.setProperty('--legend-size', `${size.legend}px`);
  panel.replaceChildren(header(input));

  if (input.noData !== undefined) renderNoData(input.noData);
  else if (input.kind === 'stat') renderStat(input, palette, size);
  else renderPlot(input, palette, size);

  // ECharts builds its SVG synchronously (animation is off) and a screenshot lays out and paints the DOM as it
  // stands, so there is no frame to wait for (waiting two animation frames cost ~33 ms a chart).
  return { width: input.width, height: input.height };
}

/** A panel whose data could not be had says so and why, where the chart would be. */
function renderNoData(reason: string): void {
  const plot = element('div', 'plot');
  const empty = element('div', 'empty no-data');
  empty.append(element('span', 'no-data-label', 'no data'), element('span', 'no-data-reason', reason));
  plot.append(empty);
  panel.append(plot);
}

function loadFonts(): Promise<unknown> {
  // Latin and Cyrillic subsets are separate files behind unicode-range; ask for both.
  const sample = 'Aa Яя 0123456789';
  return Promise.all(['400', '600', '700'].map((weight) => document.fonts.load(`${weight} 16px Inter`, sample)));
}

function sizing(width: number, height: number): Sizing {
  const k = Math.min(1.75, Math.max(0.75, Math.min(width / 640, height / 320)));
  return {
    pad: Math.round(12 * k),
    title: Math.round(15 * k),
    axis: Math.max(10, Math.round(11 * k)),
    legend: Math.max(10, Math.round(12 * k)),
    line: Math.max(1.5, Math.round(2 * k * 2) / 2),
  };
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function header(input: ChartInput): HTMLElement {
  const head = element('header', 'header');
  head.append(element('h1', 'title', input.title));
  if (input.unit && input.kind !== 'stat') head.append(element('span', 'unit', input.unit));
  return head;
}

function seriesColor(series: ChartSeries, index: number, palette: Palette): string {
  return series.color ?? palette.series[index % palette.series.length];
}

/** A line's dash, after its colour: past the palette's colours a series takes its colour again with another dash. */
type Dash = 'solid' | 'dashed' | 'dotted' | 'dash-dot';
const DASHES: readonly Dash[] = ['solid', 'dashed', 'dotted', 'dash-dot'];

function seriesDash(series: ChartSeries, index: number, palette: Palette): Dash {
  return series.color ? 'solid' : DASHES[Math.floor(index / palette.series.length) % DASHES.length];
}

/** The dash as ECharts draws it, in pixels of a line `width` wide. */
function lineDash(dash: Dash, width: number): 'solid' | 'dashed' | 'dotted' | number[] {
  return dash === 'dash-dot' ? [4 * width, 2 * width, width, 2 * width] : dash;
}

/** The legend swatch's fill for a dash: the same rhythm along its length. */
function swatchFill(color: string, dash: Dash): string {
  const stops: Record<Dash, string> = {
    solid: color,
    dashed: `repeating-linear-gradient(90deg, ${color} 0 0.4em, transparent 0.4em 0.6em)`,
    dotted: `repeating-linear-gradient(90deg, ${color} 0 0.3em, transparent 0.3em 0.5em)`,
    'dash-dot': `repeating-linear-gradient(90deg, ${color} 0 0.45em, transparent 0.45em 0.6em, ${color} 0.6em 0.75em, transparent 0.75em 0.9em)`,
  };
  return stops[dash];
}

function thresholdColor(threshold: ChartThreshold, palette: Palette): string {
  return threshold.color ?? palette.levels[threshold.level];
}

function lastValue(series: ChartSeries): number | null {
  for (let i = series.points.length - 1; i >= 0; i--) {
    const value = series.points[i][1];
    if (value !== null) return value;
  }
  const last = series.values[series.values.length - 1];
  return last ? last.value : null;
}

/**
 * When the newest sample has no value (NaN, null) and an older one is shown instead, the times of both, so the panel
 * can say so; null when the newest sample is the one shown.
 */
function missingLast(series: ChartSeries): { missing: string; shown: string } | null {
  const points = series.points;
  if (points.length === 0 || points[points.length - 1][1] !== null) return null;
  const shown = [...points].reverse().find(([, value]) => value !== null);
  if (!shown) return null;
  const time = (at: number) => (at % MINUTE === 0 ? TIME : TIME_SECONDS).format(at);
  const day = (at: number) => Math.floor(at / DAY);
  const last = points[points.length - 1][0];
  const sameDay = day(last) === day(shown[0]);
  return { missing: time(last), shown: sameDay ? time(shown[0]) : `${DATE.format(shown[0])} ${time(shown[0])}` };
}

function allValues(input: ChartInput): number[] {
  const values: number[] = [];
  for (const series of input.series) {
    for (const [, value] of series.points) if (value !== null) values.push(value);
    for (const { value } of series.values) values.push(value);
  }
  return values;
}

function renderPlot(input: ChartInput, palette: Palette, size: Sizing): void {
  const plot = element('div', 'plot');
  const list = legend(input, palette);
  panel.append(plot, list);
  fitLegend(list);
  const values = allValues(input);
  if (values.length === 0) plot.append(element('div', 'empty', 'No data'));

  const categorical = input.series.every((series) => series.points.length === 0) && input.series.some((s) => s.values.length > 0);
  const extent = [...values, ...input.thresholds.map((t) => t.value)];
  let low = extent.length ? Math.min(...extent) : 0;
  let high = extent.length ? Math.max(...extent) : 1;
  // Bars and areas are read against zero; a line only when zero is near enough not to flatten it.
  const anchorZero = input.kind !== 'line' || (low >= 0 && low <= high / 2);
  if (anchorZero) {
    low = Math.min(low, 0);
    high = Math.max(high, 0);
  }
  const plotWidth = plot.clientWidth;
  const plotHeight = plot.clientHeight;
  const ticks = axisTicks(
    low,
    high,
    input.unit,
    Math.min(8, Math.max(1, Math.round(plotHeight / (size.axis * 4)))),
    extent.every(Number.isInteger),
  );

  const chart = echarts.init(plot, null, { renderer: 'svg', width: plotWidth, height: plotHeight });
  charts.push(chart);
  const textStyle = { color: palette.muted, fontSize: size.axis, fontFamily: FONT_FAMILY };
  const categories = categorical ? categoryLabels(input.series) : [];
  const timeSpan = categorical ? {} : timeExtent(input);
  const timeTicks = evenTimeTicks(timeSpan, plotWidth, size);

  const option: ChartOption = {
    animation: false,
    useUTC: true,
    textStyle: { fontFamily: FONT_FAMILY },
    grid: {
      left: 0,
      right: Math.round(size.axis * 0.8),
      top: Math.round(size.axis * 0.8),
      bottom: Math.round(size.axis * 0.4),
      outerBoundsMode: 'same',
      // 'all' keeps the time axis' "UTC" inside the panel as well as the labels.
      outerBoundsContain: 'all',
    },
    xAxis: categorical
      ? {
          type: 'category',
          data: categories,
          axisLabel: { ...textStyle, ...categoryLabelLayout(categories, plotWidth, plotHeight, size) },
          axisLine: { lineStyle: { color: palette.axisLine } },
          axisTick: { show: false },
        }
      : {
          type: 'time',
          ...timeSpan,
          // The time zone the labels are in, at the axis' end.
          name: 'UTC',
          nameLocation: 'end',
          nameGap: Math.round(size.axis * 0.5),
          nameTextStyle: { ...textStyle },
          // Below the y axis' lowest label even at large sizes, where half a label is taller than the default gap.
          axisLabel: {
            ...textStyle,
            hideOverlap: true,
            margin: Math.round(size.axis * 0.75),
            customValues: timeTicks.values,
            formatter: (value: number) => timeLabel(value, timeTicks.step),
          },
          axisLine: { lineStyle: { color: palette.axisLine } },
          axisTick: { lineStyle: { color: palette.axisLine }, customValues: timeTicks.values },
          splitLine: { show: false },
        },
    yAxis: {
      type: 'value',
      min: ticks.min,
      max: ticks.max,
      interval: ticks.interval,
      axisLabel: { ...textStyle, hideOverlap: true, formatter: (value: number) => formatScaled(value, ticks.scale, ticks.decimals) },
      axisLine: { show: false },
      splitLine: { lineStyle: { color: palette.gridLine } },
    },
    series: [
      ...input.series.map((series, index) =>
        seriesOption(input, series, index, palette, size, categories, index === 0 ? thresholdMarks(input, ticks, palette, size) : {}),
      ),
      ...(input.kind === 'bar' ? [] : input.series.flatMap((series, index) => isolatedPoints(series, index, palette, size))),
    ],
  };
  chart.setOption(option);
}

function categoryLabels(series: ChartSeries[]): string[] {
  const labels: string[] = [];
  for (const s of series) for (const { label } of s.values) if (!labels.includes(label)) labels.push(label);
  return labels;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Steps that divide the next unit up, so ticks stay evenly spaced across hour and day boundaries. */
const TIME_STEPS = [
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
  14 * DAY,
  28 * DAY,
];

/**
 * Ticks at whole multiples of one step (in UTC), so they are evenly spaced: ECharts' own time ticks add one at every
 * hour or day boundary and label a midnight with the bare day of the month.
 */
function evenTimeTicks(extent: { min?: number; max?: number }, plotWidth: number, size: Sizing): { values: number[]; step: number } {
  if (extent.min === undefined || extent.max === undefined) return { values: [], step: MINUTE };
  const span = extent.max - extent.min;
  // A label such as "Jan 16" or "12:30" takes about six characters; leave as much again between labels.
  const most = Math.max(2, Math.floor(plotWidth / (size.axis * 7)));
  const step = TIME_STEPS.find((candidate) => span / candidate <= most) ?? Math.ceil(span / most / DAY) * DAY;
  const values: number[] = [];
  for (let tick = Math.ceil(extent.min / step) * step; tick <= extent.max; tick += step) values.push(tick);
  return { values, step };
}

const DATE = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'short', day: 'numeric' });
const TIME = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
const TIME_SECONDS = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

/** A date at midnight (and on every tick of a step of a day or more), else the time of day. */
function timeLabel(value: number, step: number): string {
  if (value % DAY === 0) return DATE.format(value);
  return (step < MINUTE ? TIME_SECONDS : TIME).format(value);
}

/**
 * Category labels that fit across stay level; otherwise they are turned (45°, or upright when that is not enough), cut
 * to a length the plot can spare, and, when even upright labels would overlap, every n-th one is shown.
 */
function categoryLabelLayout(categories: string[], plotWidth: number, plotHeight: number, size: Sizing) {
  const slot = plotWidth / Math.max(1, categories.length);
  const measure = document.createElement('canvas').getContext('2d')!;
  measure.font = `${size.axis}px ${FONT_FAMILY}`;
  const longest = Math.max(0, ...categories.map((label) => measure.measureText(label).width));
  if (longest <= slot - 4) return { interval: 0, hideOverlap: false };
  const line = size.axis * 1.3;
  const rotate = line * Math.SQRT2 <= slot ? 45 : 90;
  const across = rotate === 45 ? line * Math.SQRT2 : line;
  return {
    rotate,
    interval: Math.max(0, Math.ceil(across / slot) - 1),
    overflow: 'truncate' as const,
    // ECharts measures a little wider than the canvas: room for a character more, so whole labels are not cut.
    width: Math.max(size.axis * 3, Math.min(longest + size.axis, plotHeight * 0.35)),
    hideOverlap: false,
  };
}

function timeExtent(input: ChartInput): { min?: number; max?: number } {
  const times = input.series.flatMap((series) => series.points.map(([time]) => time));
  // A dashboard panel spans the window it asked for, so data that starts late does not look like a full range.
  const spanned = input.timeRange ? [...times, input.timeRange.from, input.timeRange.to] : times;
  if (spanned.length === 0) return {};
  let min = Math.min(...spanned);
  let max = Math.max(...spanned);
  if (input.kind === 'bar') {
    // Bars are centred on their timestamp: leave half a step each side so the edge bars stay whole.
    const sorted = [...new Set(times)].sort((a, b) => a - b);
    let step = Infinity;
    for (let i = 1; i < sorted.length; i++) step = Math.min(step, sorted[i] - sorted[i - 1]);
    const half = Number.isFinite(step) ? step / 2 : 30_000;
    min -= half;
    max += half;
  }
  return min === max ? { min: min - 30_000, max: max + 30_000 } : { min, max };
}

type Marks = Pick<LineSeriesOption, 'markLine' | 'markArea'>;

function thresholdMarks(input: ChartInput, ticks: ReturnType<typeof axisTicks>, palette: Palette, size: Sizing): Marks {
  if (input.thresholds.length === 0) return {};
  const sorted = [...input.thresholds].sort((a, b) => a.value - b.value);
  const bands = sorted.map((threshold) => {
    const color = thresholdColor(threshold, palette);
    const same = sorted.filter((t) => t.direction === threshold.direction && t !== threshold);
    const from =
      threshold.direction === 'above'
        ? threshold.value
        : Math.max(ticks.min, ...same.filter((t) => t.value < threshold.value).map((t) => t.value));
    const to =
      threshold.direction === 'above'
        ? Math.min(ticks.max, ...same.filter((t) => t.value > threshold.value).map((t) => t.value))
        : threshold.value;
    return [
      { yAxis: from, itemStyle: { color, opacity: palette.bandOpacity } },
      { yAxis: to },
    ] as const;
  });
  return {
    markArea: { silent: true, data: bands.map(([from, to]) => [{ ...from }, { ...to }]) },
    markLine: {
      silent: true,
      symbol: 'none',
      animation: false,
      data: sorted.map((threshold) => {
        const color = thresholdColor(threshold, palette);
        const value = formatValue(threshold.value, input.unit);
        return {
          yAxis: threshold.value,
          lineStyle: { color, type: 'dashed', width: 1.5, opacity: 0.9 },
          label: {
            formatter: threshold.label ? `${threshold.label} ${value}` : value,
            position: 'insideEndTop',
            color,
            fontSize: size.axis,
            fontFamily: FONT_FAMILY,
            fontWeight: 600,
            // A backing in the panel's colour keeps the label legible where it crosses the data.
            backgroundColor: palette.panel,
            padding: [1, 4],
            borderRadius: 2,
          },
        };
      }),
    },
  };
}

function seriesOption(
  input: ChartInput,
  series: ChartSeries,
  index: number,
  palette: Palette,
  size: Sizing,
  categories: string[],
  marks: Marks,
): LineSeriesOption | BarSeriesOption {
  const color = seriesColor(series, index, palette);
  if (input.kind === 'bar') {
    const byLabel = new Map(series.values.map(({ label, value }) => [label, value]));
    return {
      type: 'bar',
      name: series.name,
      color,
      data: categories.length ? categories.map((label) => byLabel.get(label) ?? null) : series.points,
      barMaxWidth: Math.round(48 * (size.axis / 11)),
      itemStyle: { borderRadius: [2, 2, 0, 0] },
      ...(marks as Pick<BarSeriesOption, 'markLine' | 'markArea'>),
    };
  }
  return {
    type: 'line',
    name: series.name,
    color,
    data: series.points,
    showSymbol: series.points.length <= 2,
    // Thousands of points become one path per pixel column instead of one segment per point.
    sampling: 'lttb',
    symbolSize: size.line * 3,
    connectNulls: false,
    lineStyle: { width: size.line, type: lineDash(seriesDash(series, index, palette), size.line) },
    areaStyle: input.kind === 'area' ? { opacity: palette.areaOpacity } : undefined,
    emphasis: { disabled: true },
    ...marks,
  };
}

/**
 * A sample with gaps on both sides has no line to draw, so a line series without symbols would lose it: draw such
 * samples as dots, in a series of their own with an invisible line.
 */
function isolatedPoints(series: ChartSeries, index: number, palette: Palette, size: Sizing): LineSeriesOption[] {
  const points = series.points;
  if (points.length <= 2) return [];
  const isolated = points.filter(
    ([, value], i) => value !== null && (i === 0 || points[i - 1][1] === null) && (i === points.length - 1 || points[i + 1][1] === null),
  );
  if (isolated.length === 0) return [];
  return [
    {
      type: 'line',
      color: seriesColor(series, index, palette),
      data: isolated,
      showSymbol: true,
      symbolSize: size.line * 3,
      lineStyle: { opacity: 0 },
      emphasis: { disabled: true },
    },
  ];
}

function legend(input: ChartInput, palette: Palette): HTMLElement {
  const list = element('ul', 'legend');
  input.series.forEach((series, index) => {
    const item = element('li', 'legend-item');
    const swatch = element('span', 'swatch');
    // Bars are told apart by colour only (their colours repeat from the eleventh series).
    swatch.style.background = input.kind === 'bar' ? seriesColor(series, index, palette) : swatchFill(seriesColor(series, index, palette), seriesDash(series, index, palette));
    item.append(swatch, element('span', 'legend-name', series.name));
    const last = series.points.length ? lastValue(series) : null;
    // As the stat panel says it: a gap last is not hidden behind the value before it.
    const stale = last !== null ? missingLast(series) : null;
    const value = last === null ? '' : formatValue(last, input.unit);
    if (last !== null) item.append(element('span', 'legend-value', stale ? `${value} (no value at ${stale.missing}; shown: ${stale.shown} UTC)` : value));
    list.append(item);
  });
  return list;
}

/**
 * The legend keeps to three lines (style.css) so the plot keeps its room; the series that do not fit are counted in a
 * last "+N more" item instead of being cut off without a word.
 */
function fitLegend(list: HTMLElement): void {
  const overflows = () => list.scrollHeight > list.clientHeight + 1;
  if (!overflows()) return;
  const items = [...list.children];
  const more = element('li', 'legend-item legend-more');
  list.append(more);
  let hidden = 0;
  do {
    items[items.length - 1 - hidden].remove();
    hidden += 1;
    more.textContent = `+${hidden} more`;
  } while (hidden < items.length && overflows());
}

function renderStat(input: ChartInput, palette: Palette, size: Sizing): void {
  const series = input.series[0];
  const value = series ? lastValue(series) : null;
  const color = value === null ? palette.muted : statColor(input, series, value, palette);

  const body = element('div', 'stat');
  const figure = element('div', 'stat-figure');
  figure.style.color = color;
  if (value === null) {
    figure.append(element('span', 'stat-number', 'No data'));
  } else {
    const parts = formatParts(
      value,
      input.unit,
      input.thresholds.map((threshold) => threshold.value),
    );
    figure.append(element('span', 'stat-number', parts.number));
    if (parts.suffix) figure.append(element('span', parts.spaced ? 'stat-unit spaced' : 'stat-unit', parts.suffix));
  }
  body.append(figure);
  if (series && series.name && series.name !== input.title) body.append(element('div', 'stat-name', series.name));
  const stale = series && value !== null ? missingLast(series) : null;
  if (stale) body.append(element('div', 'stat-name stat-stale', `no value at ${stale.missing}; shown: ${stale.shown} UTC`));
  const spark = element('div', 'spark');
  panel.append(body, spark);
  const largest = Math.min(body.clientHeight * 0.62, input.width * 0.28);
  fitText(figure, body.clientWidth, value === null ? largest * 0.45 : largest);

  const points = series ? series.points.filter((p): p is [number, number] => p[1] !== null) : [];
  if (points.length < 2) return;
  const values = points.map(([, v]) => v);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const chart = echarts.init(spark, null, { renderer: 'svg', width: spark.clientWidth, height: spark.clientHeight });
  charts.push(chart);
  const option: ChartOption = {
    animation: false,
    grid: { left: 0, right: 0, top: size.line, bottom: 0, outerBoundsMode: 'none' },
    xAxis: { type: 'time', show: false, min: points[0][0], max: points[points.length - 1][0] },
    // Leave a little room below the lowest point so the sparkline never sits on the panel's edge.
    yAxis: { type: 'value', show: false, min: low - (high - low || 1) * 0.15, max: high },
    series: [
      {
        type: 'line',
        data: series.points,
        color,
        showSymbol: false,
        connectNulls: false,
        lineStyle: { width: size.line },
        areaStyle: { opacity: palette.areaOpacity },
        emphasis: { disabled: true },
      },
    ],
  };
  chart.setOption(option);
}

/** The colour of the most severe threshold the value has crossed; ok-green when thresholds exist and none is. */
function statColor(input: ChartInput, series: ChartSeries, value: number, palette: Palette): string {
  const crossed = input.thresholds.filter((t) => (t.direction === 'above' ? value >= t.value : value <= t.value));
  if (crossed.length === 0) return input.thresholds.length ? palette.levels.ok : seriesColor(series, 0, palette);
  crossed.sort((a, b) => LEVEL_RANK[b.level] - LEVEL_RANK[a.level] || (a.direction === 'above' ? b.value - a.value : a.value - b.value));
  return thresholdColor(crossed[0], palette);
}

/** Largest font size (up to maxSize) at which the figure fits on one line. */
function fitText(node: HTMLElement, maxWidth: number, maxSize: number): void {
  let fontSize = Math.max(12, Math.floor(maxSize));
  node.style.fontSize = `${fontSize}px`;
  while (fontSize > 12 && node.scrollWidth > maxWidth) {
    fontSize = Math.max(12, Math.floor(fontSize * Math.min(0.95, maxWidth / node.scrollWidth)));
    node.style.fontSize = `${fontSize}px`;
  }
}

/** Draws one of each kind off the clock, so the first real render doesn't pay for fonts and JIT. */
async function warmUp(): Promise<void> {
  const points: Array<[number, number]> = Array.from({ length: 30 }, (_, i) => [i * 60_000, 50 + 40 * Math.sin(i / 4)]);
  const series = [{ name: 'warm-up', points, values: [], color: null }];
  const thresholds = [{ value: 80, label: 'warm', level: 'warning' as const, direction: 'above' as const, color: null }];
  for (const kind of ['line', 'area', 'bar', 'stat'] as const) {
    await render({ title: 'Warm-up', unit: 'ms', kind, series, thresholds, width: 480, height: 240, theme: 'dark' });
  }
  await render({
    title: 'Warm-up',
    unit: '',
    kind: 'bar',
    series: [{ name: 'warm-up', points: [], values: [{ label: 'a', value: 1 }], color: null }],
    thresholds: [],
    width: 480,
    height: 240,
    theme: 'light',
  });
}

Object.assign(window, { herald: { render, warmUp } });
