/** Charts for the metrics e2e tests and the benchmark: fixed data, so their images can be compared with goldens. */
const START = 1736942400; // 2025-01-15 12:00:00 UTC, in seconds as Prometheus sends it

/** A smooth, deterministic wave: the same numbers on every run. */
export function wave(count: number, base: number, swing: number, phase = 0, stepSeconds = 60): [number, number][] {
  return Array.from({ length: count }, (_, i) => [
    START + i * stepSeconds,
    Math.round((base + swing * Math.sin(i / 6 + phase) + swing * 0.3 * Math.sin(i * 1.7 + phase * 3)) * 100) / 100,
  ]);
}

export const lineChart = {
  title: 'API latency p95',
  unit: 'ms',
  kind: 'line',
  series: [
    { name: 'api-1', points: wave(60, 180, 60) },
    { name: 'api-2', points: wave(60, 240, 80, 2) },
    { name: 'api-3', points: wave(60, 140, 30, 4) },
  ],
  thresholds: [
    { value: 300, label: 'SLO', level: 'warning' },
    { value: 400, label: 'page', level: 'critical' },
  ],
  width: 800,
  height: 400,
};

/** Twenty series, more than the legend's three lines hold: the rest are counted as "+N more". */
export const crowdedChart = {
  title: 'Request rate per pod',
  unit: 'req/s',
  kind: 'line',
  series: Array.from({ length: 20 }, (_, i) => ({ name: `checkout-api-${String(i + 1).padStart(2, '0')}`, points: wave(30, 100 + i * 10, 20, i) })),
  width: 800,
  height: 400,
};

/** Thirteen series, past the palette's ten colours: the eleventh on take the first colours again, dashed, legend too. */
export const paletteWrapChart = {
  title: 'Queue depth per worker',
  kind: 'line',
  series: Array.from({ length: 13 }, (_, i) => ({ name: `w${i + 1}`, points: wave(30, 40 + i * 12, 8, i) })),
  width: 800,
  height: 400,
};

export const statPanel = {
  title: 'CPU usage',
  unit: '%',
  kind: 'stat',
  series: [{ name: 'cpu', points: wave(30, 86, 10) }],
  thresholds: [
    { value: 70, level: 'warning' },
    { value: 90, level: 'critical' },
  ],
  width: 400,
  height: 200,
};

export const barChart = {
  title: 'Deploys per service',
  kind: 'bar',
  series: [
    {
      name: 'this week',
      values: [
        { label: 'api', value: 12 },
        { label: 'web', value: 7 },
        { label: 'worker', value: 3 },
      ],
    },
    {
      name: 'last week',
      values: [
        { label: 'api', value: 8 },
        { label: 'web', value: 11 },
        { label: 'worker', value: 5 },
      ],
    },
  ],
  width: 640,
  height: 300,
  theme: 'light',
};

export const areaChart = {
  title: 'Memory used',
  unit: 'bytes',
  kind: 'area',
  series: [{ name: 'rss', points: wave(40, 1.6e9, 3e8) }],
  thresholds: [{ value: 2.2e9, label: 'limit', level: 'critical' }],
  width: 500,
  height: 260,
};

/** Values near 10^300: labelled "1.7×10³⁰⁰", on the axis and in the legend, never "1.7e+300". */
export const hugeValuesChart = {
  title: 'Huge values',
  kind: 'line',
  series: [{ name: 'x', points: wave(30, 1, 0.5).map(([time, value]) => [time, value * 1.7e300]) }],
  width: 800,
  height: 400,
};

/** Forty categories in 800 px: the labels turn upright instead of being cut to "s…". */
export const fortyBarsChart = {
  title: 'Forty bars',
  kind: 'bar',
  series: [{ name: 'x', values: Array.from({ length: 40 }, (_, i) => ({ label: `service-${i + 1}`, value: i + 3 })) }],
  width: 800,
  height: 400,
};

const EVENING = Date.UTC(2025, 0, 15, 20) / 1000;

/** 20:00 to 04:00 UTC: evenly spaced ticks, "Jan 16" at midnight (not a bare "16"), and "UTC" on the axis. */
export const acrossMidnightChart = {
  title: 'Across midnight',
  unit: 'ms',
  kind: 'line',
  series: [{ name: 'x', points: Array.from({ length: 48 }, (_, i) => [EVENING + i * 600, Math.round(100 + 30 * Math.sin(i / 5))]) }],
  width: 800,
  height: 400,
};

/** The newest sample is NaN: the panel shows the one before and says which time it is from. */
export const staleStatPanel = {
  ...statPanel,
  series: [{ name: 'cpu', points: [...wave(29, 86, 10), [START + 29 * 60, 'NaN']] }],
};

/** An availability panel whose last value, 99.46, is under the 99.5 it must not go below: "99.46%", never "99.5%". */
export const thresholdStatPanel = {
  title: 'Availability',
  unit: '%',
  kind: 'stat',
  series: [{ name: 'checkout', points: [...wave(29, 99.8, 0.15), [START + 29 * 60, 99.46]] }],
  thresholds: [
    { value: 99.9, level: 'warning', direction: 'below' },
    { value: 99.5, level: 'critical', direction: 'below' },
  ],
  width: 400,
  height: 200,
};

/** 99.95 under a "below 100" threshold: "99.95%", not the "100%" that would read as on it. */
export const nearHundredStatPanel = {
  ...thresholdStatPanel,
  series: [{ name: 'checkout', points: [...wave(29, 99.97, 0.02), [START + 29 * 60, 99.95]] }],
  thresholds: [{ value: 100, level: 'warning', direction: 'below' }],
};

/** api-2's newest sample is NaN: its legend value is the one before, saying which time it is from, as the stat panel does. */
export const staleLineChart = {
  ...lineChart,
  series: lineChart.series.map((series) =>
    series.name === 'api-2' ? { ...series, points: [...series.points.slice(0, -1), [series.points[series.points.length - 1][0], 'NaN']] } : series,
  ),
};
