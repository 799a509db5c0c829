// The metrics workload of bench/render.mjs: the e2e fixtures, normalised as MetricsService hands them to the page.
import type { ChartInput } from '../src/metrics/chart-input';
import { normaliseChart } from '../src/metrics/chart-normaliser';
import type { ChartDto } from '../src/metrics/metrics-image.dto';
import { areaChart, barChart, lineChart, statPanel } from '../test/metrics/chart-fixtures';

export function metricsChartInputs(): ChartInput[] {
  const charts = [lineChart, areaChart, barChart, statPanel, { ...lineChart, theme: 'light' }, { ...statPanel, theme: 'light' }];
  return charts.map((chart) => normaliseChart(chart as ChartDto, { maxWidth: 2000, maxHeight: 2000 }));
}
