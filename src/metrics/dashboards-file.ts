// The dashboards file (METRICS_DASHBOARDS_FILE): named dashboards, each a list of panels whose data Herald fetches
// from Prometheus or a JSON endpoint. YAML or JSON; every problem names the file and the field.
import { CronExpressionParser } from 'cron-parser';
import { JSONPath } from 'jsonpath-plus';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { z } from 'zod';
import { meantName } from '../common/validation';
import { pixelBudgetProblem } from './chart-normaliser';
import { CHART_KINDS, CHART_THEMES, THRESHOLD_DIRECTIONS, THRESHOLD_LEVELS } from './chart-input';
import type { ChartDto } from './metrics-image.dto';

/** Prometheus' own limit on the points of one series in a range query. */
const PROMETHEUS_MAX_POINTS = 11_000;
const MAX_PANELS = 100;

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const NAME_RULE = 'must be 1-64 lowercase letters, digits, "_" or "-", starting with a letter or digit (it is part of S3 keys and URLs)';
const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;
const DURATION = /^(\d{1,6})(ms|s|m|h|d|w)$/;
const DURATION_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `30s`, `5m`, `1h`, `7d` (Prometheus' duration units) in seconds. */
export function durationSeconds(text: string): number | null {
  const match = DURATION.exec(text.trim());
  return match ? Number(match[1]) * DURATION_SECONDS[match[2]] : null;
}

const duration = (what: string) =>
  z
    .string({ error: `must be a duration such as 30s, 5m, 1h or 7d (${what})` })
    .refine((value) => (durationSeconds(value) ?? 0) >= 1, `must be a duration of at least 1s such as 30s, 5m, 1h or 7d (${what})`)
    .transform((value) => durationSeconds(value)!);

/** A strict object whose unknown keys are named with the key meant, when one is a near miss (`colour` → `color`). */
function strict<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      return issue.keys
        .map((key) => {
          const meant = meantName(key, known);
          return meant ? `unknown key "${key}" (did you mean ${meant}?)` : `unknown key "${key}" (this takes ${known.join(', ')})`;
        })
        .join('; ');
    },
  });
}

/** `{{label}}` placeholders filled from a series' labels, e.g. `{{instance}} {{method}}`. */
const legend = z.string().max(100, 'must be at most 100 characters').optional();

const prometheusSource = (rules: DashboardRules) =>
  strict({
    type: z.literal('prometheus'),
    query: z.string({ error: 'is required: the PromQL expression' }).trim().min(1, 'must not be empty').max(4000, 'must be at most 4000 characters'),
    range: duration('how far back the chart reaches').default(3600),
    step: duration('the resolution of the query_range'),
    legend,
  }).superRefine((source, context) => {
    if (!rules.prometheusConfigured) context.addIssue({ code: 'custom', message: 'a Prometheus source needs METRICS_PROMETHEUS_URL' });
    const points = Math.floor(source.range / source.step) + 1;
    const most = Math.min(rules.maxPoints, PROMETHEUS_MAX_POINTS);
    if (points > most) {
      context.addIssue({
        code: 'custom',
        path: ['step'],
        message: `range / step gives ${points} points per series, more than ${most} (METRICS_MAX_POINTS)`,
      });
    }
  });

const jsonSource = (rules: DashboardRules) =>
  strict({
    type: z.literal('json'),
    url: z
      .string({ error: 'is required: the http(s) URL answering JSON' })
      .trim()
      .refine((value) => {
        try {
          return ['http:', 'https:'].includes(new URL(value).protocol);
        } catch {
          return false;
        }
      }, 'must be an http(s) URL')
      .superRefine((value, context) => {
        const url = URL.parse(value);
        if (url && !rules.isAllowedHost(url)) context.addIssue({ code: 'custom', message: `host ${url.host} is not in METRICS_FETCH_ALLOWLIST` });
      }),
    path: z
      .string({ error: 'is required: a JSONPath expression such as $.points or $.data[*]' })
      .trim()
      .refine((value) => value.startsWith('$'), 'must be a JSONPath expression starting with $ (e.g. $.points, $.data[*], $.current)')
      .superRefine((value, context) => {
        const problem = jsonPathProblem(value);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      }),
    /** The series name in the legend (default: the panel title). */
    legend,
  });

const threshold = strict({
  value: z.number({ error: 'must be a number' }).finite(),
  label: z.string().max(40).optional(),
  level: z.enum(THRESHOLD_LEVELS).optional(),
  direction: z.enum(THRESHOLD_DIRECTIONS).optional(),
  color: z.string().regex(HEX_COLOUR, 'must be #rrggbb').optional(),
});

/** One panel; checked on its own so that a bad panel does not hide the problems of the others or of its dashboard. */
const panelSchema = (rules: DashboardRules) =>
  strict({
    id: z.string({ error: 'is required (the panel’s name in its key, METRICS_S3_KEY_TEMPLATE’s {panel})' }).regex(NAME, NAME_RULE),
    title: z.string({ error: 'is required' }).trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    kind: z.enum(CHART_KINDS, { error: `must be one of ${CHART_KINDS.join(', ')}` }),
    unit: z.string().max(24, 'must be at most 24 characters').optional(),
    thresholds: z.array(threshold).max(10, 'at most 10 thresholds').optional(),
    width: z
      .number()
      .int('must be a whole number of pixels')
      .min(100, 'must be at least 100')
      .max(rules.maxWidth, `must not be greater than METRICS_MAX_WIDTH (${rules.maxWidth})`)
      .optional(),
    height: z
      .number()
      .int('must be a whole number of pixels')
      .min(100, 'must be at least 100')
      .max(rules.maxHeight, `must not be greater than METRICS_MAX_HEIGHT (${rules.maxHeight})`)
      .optional(),
    theme: z.enum(CHART_THEMES, { error: `must be one of ${CHART_THEMES.join(', ')}` }).optional(),
    scale: z.number().min(1, 'must be from 1 to 3').max(3, 'must be from 1 to 3').optional(),
    source: z.discriminatedUnion('type', [prometheusSource(rules), jsonSource(rules)], {
      error: 'must be an object whose type is prometheus or json',
    }),
  }).superRefine((panel, context) => {
    if ((panel.width ?? 0) > rules.maxWidth || (panel.height ?? 0) > rules.maxHeight) return;
    const pixels = pixelBudgetProblem(panel, rules);
    // At scale 1 only the size can be lowered.
    if (pixels !== null) context.addIssue({ code: 'custom', path: [(panel.scale ?? 1) > 1 ? 'scale' : 'width'], message: pixels });
  });

/** A dashboard with its panels unread: each panel is checked by panelSchema. */
const dashboardSchema = strict({
  name: z.string({ error: 'is required' }).regex(NAME, NAME_RULE),
  /** Cron, 5 fields (minute first) or 6 (second first), in UTC. */
  schedule: z
    .string({ error: 'must be a cron expression' })
    .trim()
    .min(1, 'must not be empty')
    .superRefine((value, context) => {
      if (parseSchedule(value) !== null) return;
      context.addIssue({
        code: 'custom',
        message: `"${value}" is not a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first)`,
      });
    })
    .optional(),
  panels: z
    .array(z.unknown(), { error: 'must be a list of panels' })
    .min(1, 'must hold at least one panel')
    .max(MAX_PANELS, `at most ${MAX_PANELS} panels`),
});

const fileSchema = strict({
  dashboards: z.array(z.unknown(), { error: 'must be a list of dashboards' }).min(1, 'must hold at least one dashboard'),
});

type ParsedPanel = z.output<ReturnType<typeof panelSchema>>;

export type PrometheusSource = Omit<z.output<ReturnType<typeof prometheusSource>>, 'range' | 'step'> & { rangeSeconds: number; stepSeconds: number };
export type JsonSource = z.output<ReturnType<typeof jsonSource>>;
export type PanelSource = PrometheusSource | JsonSource;

/** A panel: the chart options POST /metrics/image takes, without series, and where its data comes from. */
export interface DashboardPanel {
  id: string;
  chart: Omit<ChartDto, 'series'>;
  source: PanelSource;
}

export interface Dashboard {
  name: string;
  /** Cron expression (UTC), when the dashboard is re-rendered on its own. */
  schedule?: string;
  panels: DashboardPanel[];
}

/** What the file is checked against besides its own shape: the configured limits and data-source settings. */
export interface DashboardRules {
  maxWidth: number;
  maxHeight: number;
  maxPixels: number;
  maxPoints: number;
  prometheusConfigured: boolean;
  /** Whether Herald may fetch a JSON source from this URL (METRICS_FETCH_ALLOWLIST). */
  isAllowedHost(url: URL): boolean;
  /** METRICS_S3_KEY_TEMPLATE: without `{dashboard}`, two dashboards' panels of one id would share a key. */
  panelKeyTemplate: string;
}

/** Where a panel's picture is kept: METRICS_S3_KEY_TEMPLATE with its placeholders filled in. */
export function panelKey(template: string, dashboard: string, panel: string): string {
  return template.replaceAll('{dashboard}', dashboard).replaceAll('{panel}', panel);
}

export class DashboardsFileError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid dashboards file:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DashboardsFileError';
  }
}

/** Parses a cron expression of 5 or 6 fields (UTC); null when it is not one. */
export function parseSchedule(expression: string, currentDate = new Date()) {
  const fields = expression.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return null;
  try {
    return CronExpressionParser.parse(expression, { currentDate, tz: 'UTC' });
  } catch {
    return null;
  }
}

function jsonPathProblem(path: string): string | null {
  try {
    JSONPath({ path, json: {}, eval: 'safe', wrap: true });
    return null;
  } catch (error) {
    return `is not a JSONPath expression Herald can evaluate: ${(error as Error).message}`;
  }
}

/**
 * Parses the file's text; throws a DashboardsFileError whose every problem starts with `<file>: <field>:`. Every
 * dashboard and every panel is checked even when another is wrong, so one start-up reports all there is to fix.
 */
export function parseDashboardsFile(text: string, file: string, rules: DashboardRules): Dashboard[] {
  const json = extname(file).toLowerCase() === '.json';
  let raw: unknown;
  try {
    raw = json ? JSON.parse(text) : loadYaml(text);
  } catch (error) {
    throw new DashboardsFileError([`${file}: (root): not valid ${json ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`]);
  }
  const problems: string[] = [];
  const problem = (field: string, message: string) => problems.push(`${file}: ${field}: ${message}`);
  const check = <T>(schema: z.ZodType<T>, value: unknown, at: string): T | undefined => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) problem([at, ...issue.path].filter((part) => part !== '').join('.') || '(root)', issue.message);
    return undefined;
  };

  const root = check(fileSchema, raw ?? {}, '');
  if (!root) throw new DashboardsFileError(problems);
  const panels = panelSchema(rules);
  const names = new Map<string, number>();
  // Filled only where the key template leaves out {dashboard}: the first panel (by field) stored at each key.
  const keys = new Map<string, string>();
  const sharedKeys = !rules.panelKeyTemplate.includes('{dashboard}');
  const dashboards = root.dashboards.map((item, d): Dashboard | undefined => {
    const at = `dashboards.${d}`;
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name === 'string') {
      const earlier = names.get(name);
      if (earlier !== undefined) problem(`${at}.name`, `"${name}" is also the name of dashboards.${earlier}`);
      else names.set(name, d);
    }
    const entry = check(dashboardSchema, item, at);
    const ids = new Map<string, number>();
    const read = (Array.isArray((item as { panels?: unknown } | null)?.panels) ? (item as { panels: unknown[] }).panels : []).map(
      (value, p): DashboardPanel | undefined => {
        const here = `${at}.panels.${p}`;
        const id = (value as { id?: unknown } | null)?.id;
        if (typeof id === 'string') {
          const seen = ids.get(id);
          if (seen !== undefined) problem(`${here}.id`, `"${id}" is also the id of panels.${seen}`);
          else ids.set(id, p);
          const key = panelKey(rules.panelKeyTemplate, '', id);
          const owner = keys.get(key);
          if (sharedKeys && seen === undefined && owner !== undefined)
            problem(
              `${here}.id`,
              `"${id}" would be stored at ${key}, as ${owner} is: METRICS_S3_KEY_TEMPLATE (${rules.panelKeyTemplate}) has no {dashboard}, so give the panel another id or add {dashboard} to the template`,
            );
          else if (sharedKeys && seen === undefined) keys.set(key, `${here}`);
        }
        const parsed = check(panels, value, here);
        return parsed && panelFromFile(parsed);
      },
    );
    if (!entry) return undefined;
    return {
      name: entry.name,
      ...(entry.schedule !== undefined ? { schedule: entry.schedule } : {}),
      panels: read.filter((panel) => panel !== undefined),
    };
  });
  if (problems.length) throw new DashboardsFileError(problems);
  return dashboards.filter((dashboard) => dashboard !== undefined);
}

/** A panel as Herald keeps it: the chart options apart from where the data comes from. */
function panelFromFile(item: ParsedPanel): DashboardPanel {
  const { id, source, ...chart } = item;
  if (source.type === 'json') return { id, chart, source };
  const { range, step, ...rest } = source;
  return { id, chart, source: { ...rest, rangeSeconds: range, stepSeconds: step } };
}

export function readDashboardsFile(file: string, rules: DashboardRules): Dashboard[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DashboardsFileError([`${file}: cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`]);
  }
  return parseDashboardsFile(text, file, rules);
}
