import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import request from 'supertest';
import { METRICS_IMAGE_EXAMPLE } from '../../src/metrics/metrics-image.dto';
import { bootHerald } from '../support/app';
import { expectMatchesGolden } from '../support/golden';
import { metric } from '../support/metrics';
import {
  acrossMidnightChart,
  areaChart,
  barChart,
  crowdedChart,
  paletteWrapChart,
  fortyBarsChart,
  hugeValuesChart,
  lineChart,
  staleStatPanel,
  thresholdStatPanel,
  nearHundredStatPanel,
  staleLineChart,
  statPanel,
} from './chart-fixtures';

jest.setTimeout(180_000);

const GOLDENS = join(__dirname, 'goldens');
const LIMITS = {
  METRICS_MAX_CHARTS: '4',
  METRICS_MAX_SERIES: '20',
  METRICS_MAX_POINTS: '100',
  METRICS_MAX_WIDTH: '1600',
  METRICS_MAX_HEIGHT: '1100',
  METRICS_MAX_PIXELS: '2000000',
  METRICS_PRESIGN_TTL_SECONDS: '300',
};

interface ChartImage {
  urn: string;
  key: string;
  width: number;
  height: number;
  bytes: number;
  contentType: string;
  url?: string;
}

describe('POST /metrics/image', () => {
  let herald: Awaited<ReturnType<typeof bootHerald>>;
  let s3: S3Client;
  let bucket: string;
  let token: string;

  beforeAll(async () => {
    herald = await bootHerald(LIMITS);
    bucket = herald.config.s3.bucket;
    token = herald.token;
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
  });

  const post = (body: unknown, auth: string | null = `Bearer ${token}`) => {
    const req = request(herald.url).post('/metrics/image').set('Content-Type', 'application/json');
    if (auth) req.set('Authorization', auth);
    return req.send(typeof body === 'string' ? body : JSON.stringify(body));
  };

  async function object(key: string): Promise<{ body: Buffer; contentType?: string }> {
    const result = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { body: Buffer.from(await result.Body!.transformToByteArray()), contentType: result.ContentType };
  }

  async function storedKeys(): Promise<string[]> {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'metrics/' }));
    return (listed.Contents ?? []).map((item) => item.Key!).sort();
  }

  it('stores one PNG per chart with the requested size, in request order, at the URNs it answers', async () => {
    const blockedBefore = await metric(herald.url, 'herald_browser_blocked_requests_total');
    const charts = [
      // Larger than the page's viewport both ways: captured beyond it, not cut to it.
      { ...lineChart, width: 1500, height: 1050 },
      barChart,
      { ...statPanel, width: 300, height: 160, theme: 'light' },
    ];
    const response = await post({ charts }).expect(200);
    const images = response.body.images as ChartImage[];
    expect(images).toHaveLength(3);

    for (const [index, image] of images.entries()) {
      expect(image.urn).toBe(`s3://${bucket}/${image.key}`);
      expect(image.key).toMatch(/^metrics\/[0-9a-f]{64}\.png$/);
      expect(image.contentType).toBe('image/png');
      const stored = await object(image.key);
      expect(stored.contentType).toBe('image/png');
      expect(stored.body.length).toBe(image.bytes);
      const png = PNG.sync.read(stored.body);
      expect({ width: png.width, height: png.height }).toEqual({ width: charts[index].width, height: charts[index].height });
      expect({ width: image.width, height: image.height }).toEqual({ width: charts[index].width, height: charts[index].height });
      // METRICS_PRESIGN_TTL_SECONDS is set: the answer carries a URL that fetches the same object.
      const fetched = await fetch(image.url!);
      expect(fetched.status).toBe(200);
      expect(Buffer.from(await fetched.arrayBuffer()).equals(stored.body)).toBe(true);
    }
    expect(new Set(images.map((image) => image.key)).size).toBe(3);
    // The template loads nothing from the network: the pool would have blocked and counted it.
    expect(await metric(herald.url, 'herald_browser_blocked_requests_total')).toBe(blockedBefore);
  });

  it('draws at scale 1.5 and 2: the PNG has that many pixels per chart pixel, under its own key', async () => {
    const chart = { ...statPanel, width: 300, height: 160 };
    const [one, onePointFive, two] = (await post({ charts: [chart, { ...chart, scale: 1.5 }, { ...chart, scale: 2 }] }).expect(200)).body
      .images as ChartImage[];
    const sizes = await Promise.all([one, onePointFive, two].map(async (image) => PNG.sync.read((await object(image.key)).body)));
    expect(sizes.map((png) => [png.width, png.height])).toEqual([
      [300, 160],
      [450, 240],
      [600, 320],
    ]);
    expect([onePointFive.width, two.height]).toEqual([450, 320]);
    expect(new Set([one.key, onePointFive.key, two.key]).size).toBe(3);
  });

  it('answers a repeated chart with the same key without drawing it again', async () => {
    const first = (await post({ charts: [areaChart] }).expect(200)).body.images as ChartImage[];
    const rendered = await metric(herald.url, 'herald_metrics_charts_total', { outcome: 'rendered' });

    // The same chart spelled differently (timestamps in ms, defaults written out) is the same chart.
    const respelled = {
      ...areaChart,
      theme: 'dark',
      series: areaChart.series.map((series) => ({ ...series, points: series.points.map(([time, value]) => [time * 1000, String(value)]) })),
    };
    const again = (await post({ charts: [areaChart, respelled] }).expect(200)).body.images as ChartImage[];
    expect(again.map((image) => image.key)).toEqual([first[0].key, first[0].key]);
    expect(again[0].bytes).toBe(first[0].bytes);
    expect(await metric(herald.url, 'herald_metrics_charts_total', { outcome: 'rendered' })).toBe(rendered);

    const changed = (await post({ charts: [{ ...areaChart, theme: 'light' }] }).expect(200)).body.images as ChartImage[];
    expect(changed[0].key).not.toBe(first[0].key);
  });

  it('renders the example body Swagger shows', async () => {
    const docs = (await request(herald.url).get('/docs-json').expect(200)).body;
    const examples = docs.paths['/metrics/image'].post.requestBody.content['application/json'].examples;
    // Beside the dashboard examples (a dashboard by name, or no body).
    expect(Object.values(examples).map((example) => (example as { value: unknown }).value)).toContainEqual(METRICS_IMAGE_EXAMPLE);
    const images = (await post(METRICS_IMAGE_EXAMPLE).expect(200)).body.images as ChartImage[];
    expect(images.map(({ width, height }) => ({ width, height }))).toEqual(
      METRICS_IMAGE_EXAMPLE.charts.map(({ width, height }) => ({ width, height })),
    );
  });

  it.each([
    ['line-chart', lineChart],
    ['stat-panel', statPanel],
    ['crowded-legend', crowdedChart],
    ['palette-wrap', paletteWrapChart],
    ['huge-values', hugeValuesChart],
    ['forty-bars', fortyBarsChart],
    ['across-midnight', acrossMidnightChart],
    ['stale-stat-panel', staleStatPanel],
    ['threshold-stat-panel', thresholdStatPanel],
    ['near-hundred-stat-panel', nearHundredStatPanel],
    ['stale-line-chart', staleLineChart],
  ])('draws the %s as its golden image', async (name, chart) => {
    const [image] = (await post({ charts: [chart] }).expect(200)).body.images as ChartImage[];
    expectMatchesGolden(GOLDENS, name, (await object(image.key)).body);
  });

  describe('rejects a request it cannot draw, names the field, and stores nothing', () => {
    const line = (overrides: Record<string, unknown>) => ({ ...lineChart, ...overrides });
    const manyPoints = Array.from({ length: 101 }, (_, i) => [1736942400 + i * 60, i]);

    it.each([
      ['too many charts', { charts: [lineChart, lineChart, lineChart, lineChart, lineChart] }, 'charts'],
      ['too wide', { charts: [statPanel, line({ width: 1601 })] }, 'charts[1].width'],
      ['too tall', { charts: [line({ height: 1101 })] }, 'charts[0].height'],
      ['too many series', { charts: [line({ series: Array.from({ length: 21 }, (_, n) => ({ name: `s${n}`, points: [] })) })] }, 'charts[0].series'],
      ['too many points', { charts: [line({ series: [{ name: 'x', points: manyPoints }] })] }, 'charts[0].series[0].points'],
      ['no charts', { charts: [] }, 'charts'],
      ['charts sent as null (leave it out to render a dashboard)', { charts: null }, 'charts'],
      ['no title', { charts: [line({ title: undefined })] }, 'charts[0].title'],
      ['an unknown kind', { charts: [line({ kind: 'pie' })] }, 'charts[0].kind'],
      ['a malformed point', { charts: [line({ series: [{ name: 'x', points: [[1736942400, 'high']] }] })] }, 'charts[0].series[0].points'],
      ['a timestamp in microseconds', { charts: [line({ series: [{ name: 'x', points: [[1764550000000000, 1]] }] })] }, 'charts[0].series[0].points'],
      ['a bad colour', { charts: [line({ series: [{ name: 'x', points: [], color: 'red' }] })] }, 'charts[0].series[0].color'],
      ['a stat panel with two series', { charts: [{ ...statPanel, series: [statPanel.series[0], statPanel.series[0]] }] }, 'charts[0].series'],
      ['a width that is not a number', { charts: [line({ width: '800px' })] }, 'charts[0].width'],
      ['an unknown field', { charts: [line({ colour: 'red' })] }, 'charts[0].colour'],
      ['a scale above 3', { charts: [line({ scale: 4 })] }, 'charts[0].scale'],
      ['a PNG over METRICS_MAX_PIXELS (1200×800 at scale 2)', { charts: [line({ width: 1200, height: 800, scale: 2 })] }, 'charts[0].scale'],
    ])('%s', async (_case, body, field) => {
      const before = await storedKeys();
      const response = await post(body).expect(400);
      expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
      expect(await storedKeys()).toEqual(before);
    });

    it('a Prometheus query_range result item pasted as a series: told to use points, once', async () => {
      const values = Array.from({ length: 30 }, (_, i) => [1764547200 + i * 60, String(i)]);
      const response = await post({ charts: [line({ series: [{ metric: { __name__: 'up', job: 'node' }, values }] })] }).expect(400);
      const onValues = response.body.errors.filter((error: { field: string }) => error.field.startsWith('charts[0].series[0].values'));
      expect(onValues).toEqual([
        {
          field: 'charts[0].series[0].values',
          messages: [
            'values[0] is a [timestamp, value] pair; values takes { label, value } objects for a bar chart by category. ' +
              "Use points: Prometheus's values array goes in points",
          ],
        },
      ]);
    });

    it('a PNG over METRICS_MAX_PIXELS: told the pixels, the limit and the largest scale that fits', async () => {
      const response = await post({ charts: [line({ width: 1200, height: 800, scale: 3 })] }).expect(400);
      expect(response.body.errors).toEqual([
        {
          field: 'charts[0].scale',
          messages: [
            'scale 3 makes a 3600×2400 PNG (8,640,000 pixels), more than METRICS_MAX_PIXELS (2,000,000): ' +
              'use scale 1.25 or less at 1200×800, or a smaller chart',
          ],
        },
      ]);
    });

    it('a body that is not JSON', async () => {
      const before = await storedKeys();
      await post('{"charts": [').expect(400);
      expect(await storedKeys()).toEqual(before);
    });
  });

  it('refuses a request without the system token', async () => {
    const before = await storedKeys();
    await post({ charts: [{ ...lineChart, title: 'never drawn' }] }, null).expect(401);
    await post({ charts: [{ ...lineChart, title: 'never drawn' }] }, 'Bearer not-the-token').expect(401);
    expect(await storedKeys()).toEqual(before);
  });
});
