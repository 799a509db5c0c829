import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { OmittableNotNull, OptionalNestedArray } from '../common/dto';
import { CHART_KINDS, CHART_THEMES, THRESHOLD_DIRECTIONS, THRESHOLD_LEVELS } from './chart-input';
import type { ChartKind, ChartTheme, ThresholdDirection, ThresholdLevel } from './chart-input';

/**
 * A point as clients send it: `[timestamp, value]`. The timestamp is Unix seconds or milliseconds
 * (below 10^11 it is read as seconds, as Prometheus sends them); the value is a number, a numeric
 * string (Prometheus' `"0.42"`), or null / "NaN" / "+Inf" / "-Inf" for a gap.
 */
export type WirePoint = [number, number | string | null];

const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;
/** 10^13 ms is the year 2286: a timestamp past it is microseconds or nanoseconds, which would be drawn at a wrong date. */
const LATEST_TIMESTAMP = 1e13;

/** Why a points array is malformed, naming the first bad index; null when it is fine. */
export function pointsProblem(points: unknown): string | null {
  if (!Array.isArray(points)) return 'points must be an array of [timestamp, value] pairs';
  for (let i = 0; i < points.length; i++) {
    const point: unknown = points[i];
    if (!Array.isArray(point) || point.length !== 2) return `points[${i}] must be a [timestamp, value] pair`;
    const [time, value] = point as unknown[];
    if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) {
      return `points[${i}][0] must be a Unix timestamp (seconds or milliseconds)`;
    }
    if (time >= LATEST_TIMESTAMP) {
      return `points[${i}][0] is ${time}, after the year 2286 as milliseconds: send Unix seconds or milliseconds, not micro- or nanoseconds`;
    }
    const numeric = typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)));
    const gap = value === null || (typeof value === 'string' && /^[+-]?(nan|inf)$/i.test(value.trim()));
    if (!numeric && !gap) return `points[${i}][1] must be a number, a numeric string or null`;
  }
  return null;
}

const LABELLED_VALUE_KEYS = new Set(['label', 'value']);

/**
 * Why a bar chart's labelled values are malformed, naming the first bad item; null when they are fine. Checked here
 * rather than as nested objects so that `[timestamp, value]` pairs sent as values (a Prometheus query_range result
 * item pasted as a series) are one error pointing at `points`, not one error per number.
 */
export function labelledValuesProblem(values: unknown): string | null {
  if (!Array.isArray(values)) return 'values must be an array of { label, value } objects';
  for (let i = 0; i < values.length; i++) {
    const item: unknown = values[i];
    if (Array.isArray(item)) {
      return (
        `values[${i}] is a [timestamp, value] pair; values takes { label, value } objects for a bar chart by category. ` +
        "Use points: Prometheus's values array goes in points"
      );
    }
    if (typeof item !== 'object' || item === null) return `values[${i}] must be a { label, value } object`;
    const unknown = Object.keys(item).find((key) => !LABELLED_VALUE_KEYS.has(key));
    if (unknown !== undefined) return `values[${i}].${unknown}: a labelled value takes label and value only`;
    const { label, value } = item as { label?: unknown; value?: unknown };
    if (typeof label !== 'string' || label.length < 1 || label.length > 100) return `values[${i}].label must be a string of 1-100 characters`;
    if (typeof value !== 'number' || !Number.isFinite(value)) return `values[${i}].value must be a finite number`;
  }
  return null;
}

/** A validator answering the first problem `problemOf` finds (null when there is none), named as `name`. */
function validatedBy(name: string, problemOf: (value: unknown) => string | null, fallback: string) {
  return (options?: ValidationOptions): PropertyDecorator =>
    ValidateBy(
      {
        name,
        validator: {
          validate: (value: unknown) => problemOf(value) === null,
          defaultMessage: (args) => problemOf(args?.value) ?? fallback,
        },
      },
      options,
    );
}

const IsLabelledValues = validatedBy('isLabelledValues', labelledValuesProblem, 'values are malformed');
const IsChartPoints = validatedBy('isChartPoints', pointsProblem, 'points are malformed');

/** One bar of a chart by category, as Swagger shows it; a request's values are checked by labelledValuesProblem. */
export class LabelledValueDto {
  @ApiProperty({ example: 'api', maxLength: 100 })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label!: string;

  @ApiProperty({ example: 12 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  value!: number;
}

export class ChartSeriesDto {
  @ApiProperty({ example: 'api-1', maxLength: 100, description: 'Shown in the legend' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  name!: string;

  @ApiPropertyOptional({
    description:
      'Time series as `[timestamp, value]` pairs. Timestamps are numbers, Unix seconds or milliseconds (below 10^11 read as seconds, ' +
      'from 10^13 refused); values numbers or numeric strings (a Prometheus `query_range` `values` array can be passed as is); ' +
      'null, "NaN", "+Inf" or "-Inf" is a gap.',
    type: 'array',
    items: { type: 'array', minItems: 2, maxItems: 2, items: { oneOf: [{ type: 'number' }, { type: 'string' }] } },
    example: [
      [1736942400, 182],
      [1736942460, 195],
    ],
  })
  @IsOptional()
  @IsChartPoints()
  points?: WirePoint[];

  @ApiPropertyOptional({ type: [LabelledValueDto], description: 'Labelled values for a bar chart whose x axis is categories, not time' })
  @IsOptional()
  @IsLabelledValues()
  values?: LabelledValueDto[];

  @ApiPropertyOptional({ example: '#5794f2', description: "`#rrggbb`; the theme's palette when absent" })
  @IsOptional()
  @Matches(HEX_COLOUR, { message: 'color must be #rrggbb' })
  color?: string;
}

export class ChartThresholdDto {
  @ApiProperty({ example: 300 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  value!: number;

  @ApiPropertyOptional({ example: 'SLO', maxLength: 40 })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  label?: string;

  @ApiPropertyOptional({ enum: THRESHOLD_LEVELS, default: 'warning' })
  @IsOptional()
  @IsIn(THRESHOLD_LEVELS)
  level?: ThresholdLevel;

  @ApiPropertyOptional({
    enum: THRESHOLD_DIRECTIONS,
    default: 'above',
    description: 'Which side of the line is bad: it is shaded, and a stat panel past it takes the level colour',
  })
  @IsOptional()
  @IsIn(THRESHOLD_DIRECTIONS)
  direction?: ThresholdDirection;

  @ApiPropertyOptional({ example: '#f2495c', description: "`#rrggbb`; the level's colour when absent" })
  @IsOptional()
  @Matches(HEX_COLOUR, { message: 'color must be #rrggbb' })
  color?: string;
}

export class ChartDto {
  @ApiProperty({ example: 'API latency p95', maxLength: 200 })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  title!: string;

  @ApiPropertyOptional({
    example: 'ms',
    maxLength: 24,
    description:
      'Shown on the axis and values. `%`, `bytes`, `ms` and `s` are scaled (KiB/MiB…, s/min/h); anything else gets k/M/G prefixes; ' +
      'numbers past the prefixes or below a thousandth get a power of ten (1.7×10³⁰⁰)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(24)
  unit?: string;

  @ApiProperty({ enum: CHART_KINDS, example: 'line', description: '`stat` is a big-number panel with a sparkline of its one series' })
  @IsIn(CHART_KINDS)
  kind!: ChartKind;

  @ApiProperty({ type: [ChartSeriesDto] })
  @IsArray()
  @ArrayMinSize(1)
  @IsObject({ each: true, message: 'each item of series must be an object' })
  @ValidateNested({ each: true })
  @Type(() => ChartSeriesDto)
  series!: ChartSeriesDto[];

  @OptionalNestedArray(() => ChartThresholdDto, 10, { description: 'Drawn as dashed lines with shaded bands; colour a stat panel' })
  thresholds?: ChartThresholdDto[];

  @ApiPropertyOptional({ example: 800, minimum: 100, description: 'Pixels; default 800 (stat 400), at most METRICS_MAX_WIDTH' })
  @IsOptional()
  @IsInt()
  @Min(100)
  width?: number;

  @ApiPropertyOptional({ example: 400, minimum: 100, description: 'Pixels; default 400 (stat 200), at most METRICS_MAX_HEIGHT' })
  @IsOptional()
  @IsInt()
  @Min(100)
  height?: number;

  @ApiPropertyOptional({ enum: CHART_THEMES, default: 'dark' })
  @IsOptional()
  @IsIn(CHART_THEMES)
  theme?: ChartTheme;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 3,
    default: 1,
    example: 1.5,
    description:
      'Device pixel ratio: the PNG is width × scale pixels wide, sharp on high-DPI screens (quarter steps; the render service drew at 1.5). ' +
      'The PNG (width × scale by height × scale) may have at most METRICS_MAX_PIXELS pixels (default 4,000,000)',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'scale must be a number from 1 to 3' })
  @Min(1, { message: 'scale must be a number from 1 to 3' })
  @Max(3, { message: 'scale must be a number from 1 to 3' })
  scale?: number;
}

const EXAMPLE_START = 1736942400;
const examplePoints = (base: number, swing: number): WirePoint[] =>
  Array.from({ length: 30 }, (_, i) => [EXAMPLE_START + i * 60, Math.round(base + swing * Math.sin(i / 4) + (swing / 3) * Math.sin(i * 1.7))]);

export const METRICS_IMAGE_EXAMPLE = {
  charts: [
    {
      title: 'API latency p95',
      unit: 'ms',
      kind: 'line',
      series: [
        { name: 'api-1', points: examplePoints(180, 60) },
        { name: 'api-2', points: examplePoints(240, 80) },
      ],
      thresholds: [{ value: 300, label: 'SLO', level: 'warning' }],
      width: 800,
      height: 400,
    },
    {
      title: 'CPU usage',
      unit: '%',
      kind: 'stat',
      series: [{ name: 'cpu', points: examplePoints(72, 12) }],
      thresholds: [
        { value: 70, level: 'warning' },
        { value: 90, level: 'critical' },
      ],
      width: 400,
      height: 200,
      theme: 'light',
    },
  ],
};

export class MetricsImageRequestDto {
  @ApiPropertyOptional({
    type: [ChartDto],
    description: 'One image is made per chart, answered in the same order. Without charts (or with no body) a configured dashboard is rendered',
  })
  @OmittableNotNull()
  @IsArray()
  @ArrayMinSize(1)
  @IsObject({ each: true, message: 'each item of charts must be an object' })
  @ValidateNested({ each: true })
  @Type(() => ChartDto)
  charts?: ChartDto[];

  @ApiPropertyOptional({
    example: 'herald',
    maxLength: 64,
    description: 'Renders this dashboard of METRICS_DASHBOARDS_FILE instead of charts; with neither, the first dashboard is rendered',
  })
  @OmittableNotNull()
  @IsString()
  @MaxLength(64)
  dashboard?: string;
}

export class ChartImageDto {
  @ApiProperty({ example: 's3://herald/metrics/3f5c….png' })
  urn!: string;

  @ApiProperty({ example: 'metrics/3f5c….png', description: 'Content-addressed: the same chart always gets the same key' })
  key!: string;

  @ApiProperty({ example: 800, description: 'PNG pixels: the chart width × scale' })
  width!: number;

  @ApiProperty({ example: 400, description: 'PNG pixels: the chart height × scale' })
  height!: number;

  @ApiProperty({ example: 48213 })
  bytes!: number;

  @ApiProperty({ example: 'image/png' })
  contentType!: string;

  @ApiPropertyOptional({
    description:
      'A presigned GET URL when METRICS_PRESIGN_TTL_SECONDS > 0; otherwise the public URL when S3_PUBLIC_URL is set; absent without either',
  })
  url?: string;
}

export class MetricsImageResponseDto {
  @ApiProperty({ type: [ChartImageDto] })
  images!: ChartImageDto[];
}

export class DashboardPanelImageDto {
  @ApiProperty({ example: 's3://herald/metrics/herald/renders-per-second.png' })
  urn!: string;

  @ApiPropertyOptional({
    description: 'A presigned GET URL when METRICS_PRESIGN_TTL_SECONDS > 0; otherwise the public URL when S3_PUBLIC_URL is set',
  })
  url?: string;

  @ApiProperty({
    example: 'metrics/herald/renders-per-second.png',
    description: 'Stable: METRICS_S3_KEY_TEMPLATE (default metrics/<dashboard>/<panel id>.png), overwritten by each render',
  })
  key!: string;

  @ApiProperty({ example: 800 })
  width!: number;

  @ApiProperty({ example: 400 })
  height!: number;

  @ApiProperty({ example: 48213 })
  bytes!: number;

  @ApiProperty({ example: '2025-01-15T12:00:00.000Z', description: 'When the stored picture last changed' })
  updatedAt!: string;

  @ApiPropertyOptional({ example: '"5d41402abc4b2a76b9719d911017c592"', description: "The object's ETag: changes with the content" })
  etag?: string;

  @ApiProperty({ description: 'False when the data was unchanged: nothing was drawn or rewritten' })
  changed!: boolean;

  @ApiPropertyOptional({
    example: 'Prometheus: bad_data: 1:5: parse error: unexpected end of input',
    description: 'Why the panel was drawn as "no data: <reason>"',
  })
  error?: string;
}

export class DashboardPanelRenderDto {
  @ApiProperty({ example: '2025-01-15T12:00:00.000Z' })
  renderedAt!: string;

  @ApiProperty({ example: '2025-01-15T11:55:00.000Z', description: 'When the stored picture last changed' })
  updatedAt!: string;

  @ApiProperty({ type: String, nullable: true })
  etag!: string | null;

  @ApiProperty({ example: 48213 })
  bytes!: number;

  @ApiProperty({ type: String, nullable: true, description: 'Why the panel shows "no data", or null' })
  error!: string | null;
}

export class DashboardPanelDto {
  @ApiProperty({ example: 'renders-per-second' })
  id!: string;

  @ApiProperty({ example: 'Renders per second' })
  title!: string;

  @ApiProperty({ enum: CHART_KINDS })
  kind!: ChartKind;

  @ApiProperty({ enum: ['prometheus', 'json'] })
  source!: 'prometheus' | 'json';

  @ApiProperty({ example: 'metrics/herald/renders-per-second.png' })
  key!: string;

  @ApiProperty({ type: DashboardPanelRenderDto, nullable: true, description: 'The last render, or null before the first' })
  lastRender!: DashboardPanelRenderDto | null;
}

export class DashboardDto {
  @ApiProperty({ example: 'herald' })
  name!: string;

  @ApiProperty({ type: String, nullable: true, example: '*/5 * * * *', description: 'Cron (UTC), or null when rendered only on request' })
  schedule!: string | null;

  @ApiProperty({ type: [DashboardPanelDto] })
  panels!: DashboardPanelDto[];
}

export class DashboardsResponseDto {
  @ApiProperty({ type: [DashboardDto] })
  dashboards!: DashboardDto[];
}
