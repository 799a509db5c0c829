/**
 * The chart as the metrics template receives it: every optional field filled in, timestamps in
 * Unix milliseconds, points sorted by time. The same shape is hashed for the content-addressed key,
 * so two requests that mean the same chart get the same object. The template imports these types;
 * keep this file free of runtime imports so esbuild can bundle it into the page.
 */
export const CHART_KINDS = ['line', 'area', 'bar', 'stat'] as const;
export type ChartKind = (typeof CHART_KINDS)[number];

export const CHART_THEMES = ['dark', 'light'] as const;
export type ChartTheme = (typeof CHART_THEMES)[number];

export const THRESHOLD_LEVELS = ['ok', 'info', 'warning', 'critical'] as const;
export type ThresholdLevel = (typeof THRESHOLD_LEVELS)[number];

export const THRESHOLD_DIRECTIONS = ['above', 'below'] as const;
export type ThresholdDirection = (typeof THRESHOLD_DIRECTIONS)[number];

/** `[unix ms, value]`; a null value is a gap in the line. */
export type ChartPoint = [number, number | null];

export interface LabelledValue {
  label: string;
  value: number;
}

export interface ChartSeries {
  name: string;
  /** Time series; empty when the series is categorical. */
  points: ChartPoint[];
  /** Categorical values (bar charts); empty when the series is a time series. */
  values: LabelledValue[];
  /** `#rrggbb`, or null for the theme's palette. */
  color: string | null;
}

export interface ChartThreshold {
  value: number;
  label: string;
  level: ThresholdLevel;
  /** Which side of the line is the bad one: shaded, and what turns a stat panel's number this colour. */
  direction: ThresholdDirection;
  /** `#rrggbb`, or null for the level's colour. */
  color: string | null;
}

export interface ChartInput {
  title: string;
  unit: string;
  kind: ChartKind;
  series: ChartSeries[];
  thresholds: ChartThreshold[];
  width: number;
  height: number;
  theme: ChartTheme;
  /** Device pixel ratio of the PNG (1–3, quarter steps); absent for 1, so keys of charts drawn before stay the same. */
  scale?: number;
  /**
   * Why there is nothing to draw (a dashboard panel whose data source failed): the panel shows its title and
   * "no data: <reason>" instead of a chart. Absent on every chart that has data.
   */
  noData?: string;
  /**
   * The window the data was asked for, in Unix ms (a dashboard panel's query range): the time axis spans it even where
   * the data covers only part of it. Absent on charts sent by clients, whose axis spans their points.
   */
  timeRange?: { from: number; to: number };
}

export type { RenderedSize } from '../browser/template-page';
