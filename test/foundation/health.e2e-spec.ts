import { Logger } from '@nestjs/common';
import request from 'supertest';
import { BrowserPool } from '../../src/browser/browser-pool';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { startFerret, startS3, type ManagedServer } from '../support/servers';

type Started = ManagedServer & { url: string; accessKey?: string; secretKey?: string };

describe('health probes against real servers this test can take down', () => {
  let ferret: Started;
  let s3: Started & { accessKey: string; secretKey: string };
  let herald: HeraldUnderTest;

  beforeAll(async () => {
    [ferret, s3] = await Promise.all([startFerret(), startS3()]);
    herald = await bootHerald({
      MONGODB_URI: `${ferret.url}/health`,
      S3_ENDPOINT: s3.url,
      AWS_ACCESS_KEY_ID: s3.accessKey,
      AWS_SECRET_ACCESS_KEY: s3.secretKey,
    });
  });

  afterAll(async () => {
    await herald?.close();
    await Promise.all([ferret?.destroy(), s3?.destroy()]);
  });

  const live = () => request(herald.url).get('/health/live');
  const ready = () => request(herald.url).get('/health/ready');

  it('is live and ready with every check up', async () => {
    expect((await live()).status).toBe(200);
    const response = await eventually(async () => {
      const answer = await ready();
      return answer.status === 200 ? answer : undefined;
    });
    expect(response.body.status).toBe('ok');
    expect(Object.keys(response.body.details).sort()).toEqual(['browser', 'mongodb', 'storage']);
    expect(Object.values(response.body.details).every((check) => (check as { status: string }).status === 'up')).toBe(true);
  });

  /** /health/ready once `name` reads degraded; a shared dependency never takes the replica out of rotation (never 503). */
  async function degradedBy(name: string) {
    return eventually(async () => {
      const answer = await ready();
      expect(answer.status).toBe(200);
      return answer.body.info?.[name]?.degraded ? answer : undefined;
    }, 60000);
  }

  it('stays ready (200) while FerretDB is down, naming mongodb degraded with its reason, and is whole again when it is back', async () => {
    await ferret.stop();
    try {
      const degraded = await degradedBy('mongodb');
      expect(degraded.body.status).toBe('ok');
      expect(degraded.body.error).toEqual({});
      expect(degraded.body.info.mongodb).toEqual({ status: 'up', degraded: true, message: expect.any(String) });
      expect((await live()).status).toBe(200);
    } finally {
      await ferret.start();
    }
    await eventually(async () => !(await ready()).body.info?.mongodb?.degraded, 40000);
  });

  it('stays ready (200) while the S3 server is down, naming storage degraded, and is whole again when it is back', async () => {
    // What the log says meanwhile (observed, not replaced): one warning naming storage's reason, not a line per probe.
    const warnings = jest.spyOn(Logger.prototype, 'warn');
    await s3.stop();
    try {
      const degraded = await degradedBy('storage');
      for (let probe = 0; probe < 3; probe++) expect((await ready()).status).toBe(200);
      const transitions = warnings.mock.calls.filter(([, message]) => /^Readiness is now degraded/.test(String(message)));
      expect(transitions).toEqual([[expect.objectContaining({ checks: { storage: expect.any(String) } }), 'Readiness is now degraded: storage']]);
      expect(degraded.body.error).toEqual({});
      expect(degraded.body.info.storage).toEqual({ status: 'up', degraded: true, message: expect.any(String) });
      expect((await live()).status).toBe(200);
    } finally {
      warnings.mockRestore();
      await s3.start();
    }
    await eventually(async () => !(await ready()).body.info?.storage?.degraded, 30000);
  });

  it('replaces a killed Chromium without a restart', async () => {
    const pool = herald.app.get(BrowserPool);
    const before = await eventually(() => pool.browserPid());
    process.kill(before, 'SIGKILL');
    const response = await eventually(async () => {
      const answer = await ready();
      return answer.status === 200 ? answer : undefined;
    }, 30000);
    expect(response.body.details.browser.status).toBe('up');
    expect(pool.browserPid()).toEqual(expect.any(Number));
    expect(pool.browserPid()).not.toBe(before);
  });
});

describe('Swagger', () => {
  let herald: HeraldUnderTest;
  beforeAll(async () => (herald = await bootHerald()));
  afterAll(() => herald?.close());

  it('serves the UI at /docs and lists the health endpoints and the bearer scheme in /docs-json', async () => {
    expect((await request(herald.url).get('/docs/')).status).toBe(200);
    const spec = (await request(herald.url).get('/docs-json')).body;
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
    expect(spec.components.securitySchemes['api-token']).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('exposes Prometheus metrics', async () => {
    const response = await request(herald.url).get('/metrics');
    expect(response.status).toBe(200);
    expect(response.text).toContain('herald_browser_lease_seconds');
    // Chromium's own CPU and memory, read from the running browser at scrape time.
    expect(response.text).toMatch(/herald_browser_cpu_seconds\{type="browser"\} [0-9.e+-]+/);
    expect(response.text).toMatch(/herald_browser_pss_bytes\{type="browser"\} [1-9][0-9.e+]*/);
  });

  it('tags every response with a request id, echoing a valid incoming one', async () => {
    const response = await request(herald.url).get('/health/live').set('X-Request-Id', 'trace-abc-123');
    expect(response.headers['x-request-id']).toBe('trace-abc-123');
    const generated = await request(herald.url).get('/health/live');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
