import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import request from 'supertest';
import type { DashboardCallback } from '../../src/backend/dashboard-callback';
import { BackendReceiver } from '../stand-ins/backend/backend-receiver';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { expectMatchesGolden } from '../support/golden';
import { freePort, startPrometheus, type ManagedServer } from '../support/servers';
import { startExporter, startJsonSource, writeDashboardsFile, type TestServer } from './dashboard-support';
import type { PanelImage } from '../../src/metrics/dashboard.service';
import { MetricsChartRenderer } from '../../src/metrics/metrics-chart.renderer';

jest.setTimeout(240_000);

const GOLDENS = join(__dirname, 'goldens');
/** Long enough that the golden panels show one flat line per series once Prometheus holds this much of it. */
const RANGE_SECONDS = 20;

describe('metrics dashboards', () => {
  let prometheus: ManagedServer & { url: string };
  let exporter: TestServer;
  let json: Awaited<ReturnType<typeof startJsonSource>>;
  let backend: BackendReceiver;
  let herald: HeraldUnderTest;
  let s3: S3Client;

  beforeAll(async () => {
    exporter = await startExporter();
    prometheus = await startPrometheus([exporter.host]);
    json = await startJsonSource({
      '/latency': {
        data: {
          points: [
            [1736942400, 120],
            [1736942460, 180],
            [1736942520, 150],
          ],
        },
      },
      '/queue': { current: 7 },
    });
    backend = await BackendReceiver.start(process.env.TEST_SYSTEM_TOKEN!);
    const file = writeDashboardsFile({
      dashboards: [
        {
          name: 'shop',
          panels: [
            {
              id: 'latency',
              title: 'Request latency',
              kind: 'line',
              unit: 'ms',
              thresholds: [{ value: 280, label: 'SLO', level: 'warning' }],
              source: { type: 'prometheus', query: 'shop_request_latency_ms', range: `${RANGE_SECONDS}s`, step: '2s', legend: '{{server}}' },
            },
            {
              id: 'queue',
              title: 'Queue depth',
              kind: 'stat',
              thresholds: [{ value: 40, level: 'critical' }],
              // A legend of its own: the labels Prometheus adds (instance = the exporter's port) change from run to run.
              source: { type: 'prometheus', query: 'shop_queue_depth', range: `${RANGE_SECONDS}s`, step: '2s', legend: 'jobs waiting' },
            },
            { id: 'broken-query', title: 'Broken query', kind: 'line', source: { type: 'prometheus', query: 'sum(', step: '2s' } },
            { id: 'broken-json', title: 'Broken endpoint', kind: 'line', source: { type: 'json', url: `${json.url}/missing`, path: '$.points' } },
          ],
        },
        {
          name: 'static',
          panels: [
            {
              id: 'latency',
              title: 'Latency (JSON)',
              kind: 'area',
              unit: 'ms',
              source: { type: 'json', url: `${json.url}/latency`, path: '$.data.points' },
            },
            { id: 'queue', title: 'Queue (JSON)', kind: 'stat', source: { type: 'json', url: `${json.url}/queue`, path: '$.current' } },
          ],
        },
      ],
    });
    herald = await bootHerald({
      METRICS_DASHBOARDS_FILE: file,
      METRICS_PROMETHEUS_URL: prometheus.url,
      METRICS_FETCH_ALLOWLIST: json.host,
      BACKEND_URL: backend.url,
      OUTBOX_POLL_INTERVAL_MS: '200',
      // A loaded test machine: slow is not failed here.
      MONGODB_TIMEOUT_MS: '20000',
      RENDER_TIMEOUT_MS: '60000',
    });
    s3 = new S3Client({
      region: herald.config.s3.region,
      endpoint: process.env.TEST_S3_ENDPOINT,
      forcePathStyle: true,
      credentials: { accessKeyId: process.env.TEST_S3_ACCESS_KEY!, secretAccessKey: process.env.TEST_S3_SECRET_KEY! },
    });
  });

  afterAll(async () => {
    s3?.destroy();
    await herald?.close();
    await backend?.stop();
    await prometheus?.destroy();
    await exporter?.close();
    await json?.close();
  });

  const post = (body?: unknown) => {
    const req = request(herald.url).post('/metrics/image').set('Authorization', `Bearer ${herald.token}`);
    return body === undefined ? req.send() : req.set('Content-Type', 'application/json').send(JSON.stringify(body));
  };

  async function object(key: string) {
    const result = await s3.send(new GetObjectCommand({ Bucket: herald.config.s3.bucket, Key: key }));
    return { body: Buffer.from(await result.Body!.transformToByteArray()), etag: result.ETag, cacheControl: result.CacheControl };
  }

  /**
   * Waits until Prometheus has held every series for longer than RANGE_SECONDS, so each step of a range query finds a
   * sample (within Prometheus' 5-minute lookback) and the lines run from end to end.
   */
  async function prometheusHoldsTheRange(): Promise<void> {
    const url = `${prometheus.url}/api/v1/query?query=${encodeURIComponent('count(shop_request_latency_ms)')}`;
    await eventually(
      async () => {
        const answer = (await (await fetch(url)).json()) as { data: { result: { value: [number, string] }[] } };
        return Number(answer.data.result[0]?.value[1] ?? 0) === 3;
      },
      120_000,
      500,
    );
    const firstSeen = Date.now();
    await eventually(() => Date.now() - firstSeen > (RANGE_SECONDS + 4) * 1000, 120_000, 500);
  }

  it('renders the first dashboard on a POST with no body: every panel at its stable key, a failed source as "no data"', async () => {
    await prometheusHoldsTheRange();
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const drawn = jest.spyOn(MetricsChartRenderer.prototype, 'render');
    const answer = (await post().expect(200)).body as Record<string, PanelImage>;
    // A Prometheus panel's time axis spans the range it asked for, however little of it holds data.
    const latencyInput = drawn.mock.calls.map(([chart]) => chart).find((chart) => chart.title === 'Request latency');
    expect(latencyInput?.timeRange).toBeDefined();
    expect(latencyInput!.timeRange!.to - latencyInput!.timeRange!.from).toBe(RANGE_SECONDS * 1000);
    expect(latencyInput!.timeRange!.to % 2000).toBe(0);
    drawn.mockRestore();
    // The log says which panels show no data and why, as a warning, without opening the pictures.
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({
        dashboard: 'shop',
        failed: 2,
        failures: { 'broken-query': expect.stringMatching(/^Prometheus: bad_data: .*parse error/), 'broken-json': 'JSON source: HTTP 500' },
      }),
      'Rendered metrics dashboard "shop" with 2 of 4 panels showing no data',
    );
    warn.mockRestore();
    expect(Object.keys(answer)).toEqual(['latency', 'queue', 'broken-query', 'broken-json']);
    for (const [id, image] of Object.entries(answer)) {
      expect(image.key).toBe(`metrics/shop/${id}.png`);
      expect(image.urn).toBe(`s3://${herald.config.s3.bucket}/metrics/shop/${id}.png`);
      const stored = await object(image.key);
      expect(stored.body.length).toBe(image.bytes);
      expect(stored.cacheControl).toBe('public, max-age=60');
      expect(stored.etag).toBe(image.etag);
      const png = PNG.sync.read(stored.body);
      expect([png.width, png.height]).toEqual([image.width, image.height]);
    }
    expect(answer.latency.error).toBeUndefined();
    expect(answer.queue.error).toBeUndefined();
    expect(answer['broken-query'].error).toMatch(/^Prometheus: bad_data: .*parse error/);
    expect(answer['broken-json'].error).toBe('JSON source: HTTP 500');

    // Drawn from real PromQL answers: one flat line per instance, a stat panel with its value, and "no data: <reason>".
    expectMatchesGolden(GOLDENS, 'prometheus-line-panel', (await object(answer.latency.key)).body, { ignoreTimeAxis: true });
    expectMatchesGolden(GOLDENS, 'prometheus-stat-panel', (await object(answer.queue.key)).body);
    expectMatchesGolden(GOLDENS, 'no-data-panel', (await object(answer['broken-json'].key)).body);
  });

  it('rewrites nothing when the data did not change (same ETag), and a new picture when it did', async () => {
    const first = (await post({ dashboard: 'static' }).expect(200)).body as Record<string, PanelImage>;
    const head = () => s3.send(new HeadObjectCommand({ Bucket: herald.config.s3.bucket, Key: first.latency.key }));
    const modified = (await head()).LastModified;
    const again = (await post({ dashboard: 'static' }).expect(200)).body as Record<string, PanelImage>;
    expect(again.latency).toMatchObject({ changed: false, etag: first.latency.etag });
    expect(again.queue).toMatchObject({ changed: false, etag: first.queue.etag });
    expect((await head()).LastModified).toEqual(modified);
    // updatedAt reads the same on the render that wrote the picture and on every later one: ISO 8601 with ms.
    expect(first.latency.changed).toBe(true);
    expect(first.latency.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(again.latency.updatedAt).toBe(first.latency.updatedAt);
    expect(again.queue.updatedAt).toBe(first.queue.updatedAt);

    json.documents['/queue'] = { current: 8 };
    const changed = (await post({ dashboard: 'static' }).expect(200)).body as Record<string, PanelImage>;
    expect(changed.queue.changed).toBe(true);
    expect(changed.queue.etag).not.toBe(first.queue.etag);
    expect(changed.latency).toMatchObject({ changed: false, etag: first.latency.etag, updatedAt: first.latency.updatedAt });
    expect(Date.parse(changed.queue.updatedAt)).toBeGreaterThan(Date.parse(first.queue.updatedAt));
    const list = (await request(herald.url).get('/metrics/dashboards').set('Authorization', `Bearer ${herald.token}`).expect(200)).body;
    const panels = list.dashboards[1].panels as Array<{ id: string; lastRender: { updatedAt: string } }>;
    expect(panels.find((item) => item.id === 'latency')!.lastRender.updatedAt).toBe(first.latency.updatedAt);
  });

  it('lists the dashboards with each panel’s last render, and serves the latest PNG with its ETag', async () => {
    const rendered = (await post({ dashboard: 'static' }).expect(200)).body as Record<string, PanelImage>;
    const list = (await request(herald.url).get('/metrics/dashboards').set('Authorization', `Bearer ${herald.token}`).expect(200)).body;
    expect(list.dashboards.map((dashboard: { name: string }) => dashboard.name)).toEqual(['shop', 'static']);
    const staticPanels = list.dashboards[1].panels;
    expect(staticPanels[1]).toMatchObject({ id: 'queue', kind: 'stat', source: 'json', key: 'metrics/static/queue.png' });
    expect(staticPanels[1].lastRender).toMatchObject({ etag: rendered.queue.etag, bytes: rendered.queue.bytes, error: null });
    expect(list.dashboards[0].panels[3].lastRender.error).toBe('JSON source: HTTP 500');

    const png = await request(herald.url)
      .get('/metrics/dashboards/static/queue.png')
      .set('Authorization', `Bearer ${herald.token}`)
      .buffer(true)
      .parse((res, callback) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => callback(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.headers.etag).toBe(rendered.queue.etag);
    expect(png.headers['cache-control']).toBe('public, max-age=60');
    expect((png.body as Buffer).equals((await object('metrics/static/queue.png')).body)).toBe(true);
    await request(herald.url)
      .get('/metrics/dashboards/static/queue.png')
      .set('Authorization', `Bearer ${herald.token}`)
      .set('If-None-Match', rendered.queue.etag!)
      .expect(304);
  });

  it('tells the backend after each render, through the outbox', async () => {
    const callback = await backend.waitUntil(
      () => backend.accepted.map((received) => received.body as unknown as DashboardCallback).find((body) => body.dashboard === 'shop'),
      'the shop dashboard callback',
    );
    expect(callback).toMatchObject({ event: 'dashboard.rendered', trigger: 'api', dashboard: 'shop' });
    expect(Object.keys(callback.panels)).toEqual(['latency', 'queue', 'broken-query', 'broken-json']);
    expect(callback.panels['broken-json'].error).toBe('JSON source: HTTP 500');
    expect(callback.panels.latency.key).toBe('metrics/shop/latency.png');
  });

  describe('answers a bad request with a 4xx naming what is wrong, and stores nothing', () => {
    it.each([
      ['an unknown dashboard', { dashboard: 'nope' }, 'dashboard'],
      [
        'charts and a dashboard at once',
        { dashboard: 'shop', charts: [{ title: 't', kind: 'line', series: [{ name: 's', points: [[1736942400, 1]] }] }] },
        'dashboard',
      ],
      ['a dashboard that is not a string', { dashboard: 7 }, 'dashboard'],
    ])('%s', async (_case, body, field) => {
      const response = await post(body).expect(400);
      expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    });

    it.each([
      ['/metrics/dashboards/nope/latency.png', /No dashboard "nope"/],
      ['/metrics/dashboards/shop/nope.png', /has no panel "nope"/],
      ['/metrics/dashboards/shop/latency.jpg', /<panel id>\.png/],
    ])('GET %s is a 404', async (path, message) => {
      const response = await request(herald.url).get(path).set('Authorization', `Bearer ${herald.token}`).expect(404);
      expect(response.body.message).toMatch(message);
    });

    it('refuses a request without a token', async () => {
      await request(herald.url).post('/metrics/image').expect(401);
      await request(herald.url).get('/metrics/dashboards').expect(401);
    });
  });
});

describe('the README example dashboard, against a real Prometheus scraping Herald itself', () => {
  let prometheus: ManagedServer & { url: string };
  let herald: HeraldUnderTest;

  beforeAll(async () => {
    // Herald must know Prometheus' address and Prometheus Herald's: take Prometheus' port first.
    const port = await freePort();
    herald = await bootHerald({
      METRICS_DASHBOARDS_FILE: join(__dirname, '../../docs/examples/herald-dashboard.yaml'),
      METRICS_PROMETHEUS_URL: `http://127.0.0.1:${port}`,
      MONGODB_TIMEOUT_MS: '20000',
      RENDER_TIMEOUT_MS: '60000',
    });
    prometheus = await startPrometheus([new URL(herald.url).host], port);
  });

  afterAll(async () => {
    await herald?.close();
    await prometheus?.destroy();
  });

  it('draws every panel from Herald’s own metrics once Prometheus has scraped a few renders', async () => {
    // Its own renders make the render metrics: render until every panel has data.
    const answer = await eventually(
      async () => {
        const panels = (await request(herald.url).post('/metrics/image').set('Authorization', `Bearer ${herald.token}`).send().expect(200))
          .body as Record<string, PanelImage>;
        return Object.values(panels).every((panel) => panel.error === undefined) ? panels : false;
      },
      120_000,
      2000,
    );
    expect(Object.keys(answer)).toEqual(['render-latency', 'renders-per-second', 'outbox-backlog', 'outbox-parked']);
    for (const panel of Object.values(answer)) expect(panel.key).toMatch(/^metrics\/herald\/[a-z-]+\.png$/);
  });
});
