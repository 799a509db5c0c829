import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseTestEnv } from '../support/app';
import { fatalLine, startHeraldProcess } from '../support/process';
import { freePort } from '../support/servers';

jest.setTimeout(120_000);

/** Wrong in several ways at once, in different dashboards and panels, and in a field (schedule) checked after the shape. */
const BROKEN = `
dashboards:
  - name: shop
    schedule: every minute
    panels:
      - { id: latency, title: Latency, kind: pie, source: { type: prometheus, query: up, step: 1m } }
      - { id: queue, title: Queue, kind: stat, them: light, width: 800, height: 400, scale: 3, source: { type: prometheus, query: up, step: 1m } }
  - name: shop
    panels:
      - { id: errors, title: Errors, kind: line, source: { type: json, url: "https://stats.example.com/e", path: "points" } }
`;

describe('a wrong METRICS_DASHBOARDS_FILE', () => {
  it('stops start-up with exit 78 listing every problem of the file, before MongoDB is waited for', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'herald-dashboards-')), 'dashboards.yaml');
    writeFileSync(file, BROKEN);
    // Nothing listens on this port: had Herald waited for MongoDB first it would end with exit 1 naming MongoDB.
    const env = {
      ...baseTestEnv(),
      MONGODB_URI: `mongodb://127.0.0.1:${await freePort()}/herald`,
      MONGODB_STARTUP_TIMEOUT_MS: '3000',
      METRICS_DASHBOARDS_FILE: file,
      METRICS_PROMETHEUS_URL: 'http://127.0.0.1:9/',
      METRICS_MAX_PIXELS: '2000000',
    };
    const result = await startHeraldProcess(env).exited;
    expect(result.code).toBe(78);
    const fatal = fatalLine(result.stderr);
    expect(fatal?.problems).toEqual(
      [
        'dashboards.0.schedule: "every minute" is not a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first)',
        'dashboards.0.panels.0.kind: must be one of line, area, bar, stat',
        'dashboards.0.panels.1: unknown key "them" (did you mean theme?)',
        'dashboards.0.panels.1.scale: scale 3 makes a 2400×1200 PNG (2,880,000 pixels), more than METRICS_MAX_PIXELS (2,000,000): use scale 2.5 or less at 800×400, or a smaller chart',
        'dashboards.1.name: "shop" is also the name of dashboards.0',
        'dashboards.1.panels.0.source.url: host stats.example.com is not in METRICS_FETCH_ALLOWLIST',
        'dashboards.1.panels.0.source.path: must be a JSONPath expression starting with $ (e.g. $.points, $.data[*], $.current)',
      ].map((problem) => `METRICS_DASHBOARDS_FILE: ${file}: ${problem}`),
    );
    expect(result.stderr).not.toContain('MongoDB');
  });
});

describe('a wrong METRICS_S3_KEY_TEMPLATE', () => {
  it('stops start-up with exit 78 naming the unknown placeholder, and refuses a template without {panel}', async () => {
    const fatalOf = async (template: string) => {
      const env = { ...baseTestEnv(), METRICS_S3_KEY_TEMPLATE: template };
      const result = await startHeraldProcess(env).exited;
      const fatal = fatalLine(result.stderr);
      return { code: result.code, problems: fatal?.problems };
    };
    expect(await fatalOf('renders/metrics/{div_id}')).toEqual({
      code: 78,
      problems: [
        'METRICS_S3_KEY_TEMPLATE: unknown placeholder(s) {div_id}; allowed: {dashboard}, {panel}',
        'METRICS_S3_KEY_TEMPLATE: must contain {panel}, so each panel gets a key of its own',
      ],
    });
    expect(await fatalOf('metrics/{dashboard}.png')).toEqual({
      code: 78,
      problems: ['METRICS_S3_KEY_TEMPLATE: must contain {panel}, so each panel gets a key of its own'],
    });
  });
});
