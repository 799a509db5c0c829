import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import request from 'supertest';
import type { PanelImage } from '../../src/metrics/dashboard.service';
import { bootHerald, type HeraldUnderTest } from '../support/app';
import { startJsonSource, writeDashboardsFile, type TestServer } from './dashboard-support';

jest.setTimeout(180_000);

// The render service kept each panel at `{FILES_BUCKET_FOLDER}/metrics/{div_id}`, no extension: a migrator keeps
// those URLs (the backend and the pages showing them) with METRICS_S3_KEY_TEMPLATE.
describe('METRICS_S3_KEY_TEMPLATE keeps the render service’s panel keys', () => {
  let json: TestServer;
  let herald: HeraldUnderTest;
  let s3: S3Client;

  beforeAll(async () => {
    json = await startJsonSource({ '/queue': { current: 7 } });
    const file = writeDashboardsFile({
      dashboards: [
        {
          name: 'shop',
          panels: [{ id: 'queue', title: 'Queue', kind: 'stat', source: { type: 'json', url: `${json.url}/queue`, path: '$.current' } }],
        },
      ],
    });
    herald = await bootHerald({
      METRICS_DASHBOARDS_FILE: file,
      METRICS_FETCH_ALLOWLIST: json.host,
      METRICS_S3_KEY_TEMPLATE: 'renders/metrics/{panel}',
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
    await json?.close();
  });

  const authorised = (req: request.Test) => req.set('Authorization', `Bearer ${herald.token}`);

  it('stores each panel at the templated key, as image/png without the extension, and serves it from there', async () => {
    const answer = (await authorised(request(herald.url).post('/metrics/image')).send().expect(200)).body as Record<string, PanelImage>;
    expect(answer.queue).toMatchObject({ key: 'renders/metrics/queue', urn: `s3://${herald.config.s3.bucket}/renders/metrics/queue` });
    const head = await s3.send(new HeadObjectCommand({ Bucket: herald.config.s3.bucket, Key: 'renders/metrics/queue' }));
    expect(head.ContentType).toBe('image/png');
    expect(head.ContentLength).toBe(answer.queue.bytes);

    const list = (await authorised(request(herald.url).get('/metrics/dashboards')).expect(200)).body;
    expect(list.dashboards[0].panels[0]).toMatchObject({ id: 'queue', key: 'renders/metrics/queue' });
    const png = await authorised(request(herald.url).get('/metrics/dashboards/shop/queue.png'))
      .buffer(true)
      .parse((res, callback) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => callback(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.headers.etag).toBe(answer.queue.etag);
    expect((png.body as Buffer).length).toBe(answer.queue.bytes);
  });
});
