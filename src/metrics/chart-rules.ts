import type { FieldError } from '../common/validation';
import { pixelBudgetProblem } from './chart-normaliser';
import type { ChartDto } from './metrics-image.dto';

export interface ChartLimits {
  maxCharts: number;
  maxSeries: number;
  /** Per series. */
  maxPoints: number;
  maxWidth: number;
  maxHeight: number;
  /** Pixels of one PNG: width × scale by height × scale. */
  maxPixels: number;
}

/**
 * The rules class-validator can't express on one field: limits from configuration and the way fields
 * of one chart fit together. Answers in the ValidationPipe's shape so a client sees one kind of 400.
 */
export function chartRequestProblems(request: { charts: ChartDto[] }, limits: ChartLimits): FieldError[] {
  const problems: FieldError[] = [];
  const add = (field: string, message: string) => problems.push({ field, messages: [message] });

  if (request.charts.length > limits.maxCharts) {
    add('charts', `at most ${limits.maxCharts} charts per request (got ${request.charts.length})`);
  }
  request.charts.forEach((chart, c) => chartProblems(chart, `charts[${c}]`, limits, add));
  return problems;
}

function chartProblems(chart: ChartDto, path: string, limits: ChartLimits, add: (field: string, message: string) => void): void {
  const wide = chart.width !== undefined && chart.width > limits.maxWidth;
  const tall = chart.height !== undefined && chart.height > limits.maxHeight;
  if (wide) add(`${path}.width`, `width must not be greater than ${limits.maxWidth}`);
  if (tall) add(`${path}.height`, `height must not be greater than ${limits.maxHeight}`);
  const pixels = wide || tall ? null : pixelBudgetProblem(chart, limits);
  // At scale 1 only the size can be lowered.
  if (pixels !== null) add(`${path}.${(chart.scale ?? 1) > 1 ? 'scale' : 'width'}`, pixels);
  if (chart.series.length > limits.maxSeries) {
    add(`${path}.series`, `at most ${limits.maxSeries} series per chart (got ${chart.series.length})`);
  }
  if (chart.kind === 'stat' && chart.series.length !== 1) add(`${path}.series`, 'a stat panel shows exactly one series');

  let categorical = 0;
  chart.series.forEach((series, s) => {
    const at = `${path}.series[${s}]`;
    const points = series.points?.length ?? 0;
    const values = series.values?.length ?? 0;
    if (series.points !== undefined && series.values !== undefined) add(at, 'send either points or values, not both');
    else if (series.points === undefined && series.values === undefined) add(at, 'send points ([timestamp, value] pairs) or values');
    if (points > limits.maxPoints) add(`${at}.points`, `at most ${limits.maxPoints} points per series (got ${points})`);
    if (values > limits.maxPoints) add(`${at}.values`, `at most ${limits.maxPoints} values per series (got ${values})`);
    if (series.values !== undefined) {
      categorical++;
      if (chart.kind !== 'bar') add(`${at}.values`, `labelled values are for kind "bar"; a ${chart.kind} chart takes points`);
    }
  });
  if (chart.kind === 'bar' && categorical > 0 && categorical < chart.series.length) {
    add(`${path}.series`, 'a bar chart takes either labelled values in every series or points in every series');
  }
}
