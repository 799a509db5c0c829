import { DashboardsFileError, durationSeconds, parseDashboardsFile, type DashboardRules } from './dashboards-file';
import { pointsFromMatches, seriesName } from './dashboard-sources';

const rules: DashboardRules = {
  maxWidth: 1000,
  maxHeight: 800,
  maxPixels: 1_000_000,
  maxPoints: 500,
  prometheusConfigured: true,
  isAllowedHost: (url) => url.host === 'stats.example.com',
  panelKeyTemplate: 'metrics/{dashboard}/{panel}.png',
};

function problems(text: string, file = 'dashboards.yaml', given = rules): string[] {
  try {
    parseDashboardsFile(text, file, given);
  } catch (error) {
    if (error instanceof DashboardsFileError) return error.problems;
    throw error;
  }
  throw new Error('expected a DashboardsFileError');
}

const GOOD = `
dashboards:
  - name: herald
    schedule: "*/5 * * * *"
    panels:
      - id: renders
        title: Renders per second
        kind: line
        unit: "/s"
        source: { type: prometheus, query: "sum by (template) (rate(herald_renders_total[1m]))", range: 1h, step: 1m, legend: "{{template}}" }
      - id: queue
        title: Queue
        kind: stat
        width: 300
        source: { type: json, url: "https://stats.example.com/queue", path: "$.current" }
`;

describe('parseDashboardsFile', () => {
  it('reads dashboards with Prometheus and JSON panels', () => {
    const [dashboard] = parseDashboardsFile(GOOD, 'dashboards.yaml', rules);
    expect(dashboard.name).toBe('herald');
    expect(dashboard.schedule).toBe('*/5 * * * *');
    expect(dashboard.panels[0]).toEqual({
      id: 'renders',
      chart: { title: 'Renders per second', kind: 'line', unit: '/s' },
      source: {
        type: 'prometheus',
        query: 'sum by (template) (rate(herald_renders_total[1m]))',
        rangeSeconds: 3600,
        stepSeconds: 60,
        legend: '{{template}}',
      },
    });
    expect(dashboard.panels[1].source).toEqual({ type: 'json', url: 'https://stats.example.com/queue', path: '$.current' });
  });

  it('reads JSON files as JSON', () => {
    const json = JSON.stringify({
      dashboards: [{ name: 'a', panels: [{ id: 'p', title: 'P', kind: 'line', source: { type: 'prometheus', query: 'up', step: '30s' } }] }],
    });
    expect(parseDashboardsFile(json, 'd.json', rules)[0].panels[0].source).toMatchObject({ rangeSeconds: 3600, stepSeconds: 30 });
  });

  it('names the file and the field of every problem', () => {
    const bad = `
dashboards:
  - name: Herald Dash
    schedule: every minute
    panels:
      - id: a
        title: A
        kind: pie
        threshold: [{ value: 1 }]
        source: { type: prometheus, query: up, step: 1m }
      - id: b
        title: B
        kind: line
        colour: red
        source: { type: json, url: "https://stats.example.com/x", path: "points" }
`;
    expect(problems(bad)).toEqual([
      'dashboards.yaml: dashboards.0.name: must be 1-64 lowercase letters, digits, "_" or "-", starting with a letter or digit (it is part of S3 keys and URLs)',
      // The schedule is reported with the rest, not on the next start once they are fixed.
      'dashboards.yaml: dashboards.0.schedule: "every minute" is not a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first)',
      'dashboards.yaml: dashboards.0.panels.0.kind: must be one of line, area, bar, stat',
      'dashboards.yaml: dashboards.0.panels.0: unknown key "threshold" (did you mean thresholds?)',
      'dashboards.yaml: dashboards.0.panels.1.source.path: must be a JSONPath expression starting with $ (e.g. $.points, $.data[*], $.current)',
      'dashboards.yaml: dashboards.0.panels.1: unknown key "colour" (this takes id, title, kind, unit, thresholds, width, height, theme, scale, source)',
    ]);
  });

  it('checks what depends on configuration and on other entries', () => {
    const text = `
dashboards:
  - name: a
    schedule: "61 * * * *"
    panels:
      - { id: p, title: P, kind: line, width: 1200, source: { type: prometheus, query: up, range: 1d, step: 1m } }
      - { id: p, title: Q, kind: line, source: { type: json, url: "http://elsewhere.example.com/q", path: "$.v" } }
  - name: a
    panels:
      - { id: r, title: R, kind: line, source: { type: prometheus, query: up, step: 1m } }
`;
    expect(problems(text, 'd.yaml', { ...rules, prometheusConfigured: false })).toEqual([
      'd.yaml: dashboards.0.schedule: "61 * * * *" is not a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first)',
      'd.yaml: dashboards.0.panels.0.width: must not be greater than METRICS_MAX_WIDTH (1000)',
      'd.yaml: dashboards.0.panels.0.source: a Prometheus source needs METRICS_PROMETHEUS_URL',
      'd.yaml: dashboards.0.panels.0.source.step: range / step gives 1441 points per series, more than 500 (METRICS_MAX_POINTS)',
      'd.yaml: dashboards.0.panels.1.id: "p" is also the id of panels.0',
      'd.yaml: dashboards.0.panels.1.source.url: host elsewhere.example.com is not in METRICS_FETCH_ALLOWLIST',
      'd.yaml: dashboards.1.name: "a" is also the name of dashboards.0',
      'd.yaml: dashboards.1.panels.0.source: a Prometheus source needs METRICS_PROMETHEUS_URL',
    ]);
  });

  it("bounds a panel's PNG pixels, width × scale by height × scale, naming scale", () => {
    const text = `
dashboards:
  - name: a
    panels:
      - { id: p, title: P, kind: line, width: 800, height: 400, scale: 3, source: { type: prometheus, query: up, step: 1m } }
      - { id: q, title: Q, kind: line, width: 800, height: 400, scale: 1.5, source: { type: prometheus, query: up, step: 1m } }
`;
    expect(problems(text)).toEqual([
      'dashboards.yaml: dashboards.0.panels.0.scale: scale 3 makes a 2400×1200 PNG (2,880,000 pixels), more than METRICS_MAX_PIXELS (1,000,000): use scale 1.75 or less at 800×400, or a smaller chart',
    ]);
  });

  it('refuses two panels one key would hold, when METRICS_S3_KEY_TEMPLATE leaves out {dashboard}', () => {
    const text = `
dashboards:
  - name: shop
    panels:
      - { id: latency, title: L, kind: line, source: { type: prometheus, query: up, step: 1m } }
      - { id: queue, title: Q, kind: stat, source: { type: prometheus, query: up, step: 1m } }
  - name: static
    panels:
      - { id: latency, title: L, kind: line, source: { type: prometheus, query: up, step: 1m } }
`;
    // The default template keeps them apart; the render service's layout does not.
    expect(parseDashboardsFile(text, 'dashboards.yaml', rules)).toHaveLength(2);
    expect(problems(text, 'dashboards.yaml', { ...rules, panelKeyTemplate: 'renders/metrics/{panel}' })).toEqual([
      'dashboards.yaml: dashboards.1.panels.0.id: "latency" would be stored at renders/metrics/latency, as dashboards.0.panels.0 is: METRICS_S3_KEY_TEMPLATE (renders/metrics/{panel}) has no {dashboard}, so give the panel another id or add {dashboard} to the template',
    ]);
  });

  it('says when the file is not YAML or JSON at all', () => {
    expect(problems('{ "dashboards": [', 'd.json')[0]).toMatch(/^d\.json: \(root\): not valid JSON/);
    expect(problems('dashboards: [', 'd.yaml')[0]).toMatch(/^d\.yaml: \(root\): not valid YAML/);
    expect(problems('dashboards: []', 'd.yaml')).toEqual(['d.yaml: dashboards: must hold at least one dashboard']);
  });
});

describe('durationSeconds', () => {
  it('reads Prometheus durations', () => {
    expect([durationSeconds('30s'), durationSeconds('5m'), durationSeconds('2h'), durationSeconds('7d'), durationSeconds('1w')]).toEqual([
      30, 300, 7200, 604800, 604800,
    ]);
    expect(durationSeconds('5 minutes')).toBeNull();
  });
});

describe('seriesName', () => {
  it('fills a legend template from the labels, or prints the labels', () => {
    expect(seriesName({ instance: 'api-1', job: 'shop' }, '{{instance}} ({{ job }})', 'fallback')).toBe('api-1 (shop)');
    expect(seriesName({ __name__: 'up', instance: 'api-1' }, undefined, 'fallback')).toBe('up{instance="api-1"}');
    expect(seriesName({}, undefined, 'Queue')).toBe('Queue');
    expect(seriesName({ a: 'x' }, '{{missing}}', 'Queue')).toBe('Queue');
  });
});

describe('pointsFromMatches', () => {
  const now = new Date('2025-01-15T12:00:30Z');

  it('takes an array of pairs, pairs matched one by one, or one number', () => {
    expect(
      pointsFromMatches(
        [
          [
            [1, 2],
            [3, 4],
          ],
        ],
        now,
      ),
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(
      pointsFromMatches(
        [
          [1, '2'],
          [3, null],
        ],
        now,
      ),
    ).toEqual([
      [1, '2'],
      [3, null],
    ]);
    expect(pointsFromMatches([42], now)).toEqual([[1736942430, 42]]);
  });

  it('says what it could not use', () => {
    expect(() => pointsFromMatches([], now)).toThrow('the path matched nothing');
    expect(() => pointsFromMatches([{ a: 1 }], now)).toThrow(/\[timestamp, value\] pairs or one number: points\[0\]/);
  });
});
