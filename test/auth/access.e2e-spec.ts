import request from 'supertest';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { metric } from '../support/metrics';
import { requireEnv } from '../support/servers';
import { issue, TokensFile } from './tokens-file';

jest.setTimeout(240_000);

// Endpoints that answer without Discord: /metrics/image (metrics), /render/discord-message (render), and VK's
// admin endpoints (VK configured, no poller in an api-only process). A body that fails validation answers 400,
// which shows the token was admitted without drawing anything.
const VK_API_ONLY = {
  HERALD_ROLES: 'api',
  VK_TOKEN: 'vk-community-token',
  VK_GROUP_ID: '1',
  AMQP_URL: requireEnv('TEST_AMQP_URL'),
  BROWSER_POOL_SIZE: '1',
};

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const postMetrics = (herald: HeraldUnderTest, token: string) => request(herald.url).post('/metrics/image').set(bearer(token)).send({});
const postRender = (herald: HeraldUnderTest, token: string) =>
  request(herald.url)
    .post('/render/discord-message')
    .set(bearer(token))
    .send({ author: { name: 'x' }, timeZone: 'Mars/Olympus' });

describe('Scoped API tokens', () => {
  const ci = issue('ci-notify', ['notify']);
  const grafana = issue('grafana', ['metrics']);
  const operator = issue('vk-operator', ['vk-admin', 'read']);
  const dashboard = issue('dashboard', ['read']);
  let file: TokensFile;
  let herald: HeraldUnderTest;

  beforeAll(async () => {
    file = new TokensFile([ci, grafana, operator, dashboard]);
    herald = await bootHerald({ ...VK_API_ONLY, API_TOKENS_FILE: file.path });
  });
  afterAll(() => herald?.close());

  it('admits a token holding the endpoint scope and answers 403 naming the scope it lacks', async () => {
    expect((await postMetrics(herald, grafana.token)).status).toBe(400);

    const refused = await postMetrics(herald, ci.token);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    expect(refused.body.message).toBe('The token "ci-notify" lacks the scope "metrics" that POST /metrics/image needs');

    const render = await postRender(herald, grafana.token);
    expect(render.status).toBe(403);
    expect(render.body.message).toContain('lacks the scope "render"');
  });

  it('opens listing endpoints to `read` or the feature scope, and their actions only to the feature scope', async () => {
    expect((await request(herald.url).get('/vk/routes').set(bearer(dashboard.token))).status).toBe(200);
    expect((await request(herald.url).get('/vk/deliveries').set(bearer(operator.token))).status).toBe(200);
    const listing = await request(herald.url).get('/vk/deliveries').set(bearer(grafana.token));
    expect(listing.status).toBe(403);
    expect(listing.body.message).toContain('lacks the scope "read" or "vk-admin"');

    const retry = await request(herald.url).post('/vk/deliveries/0123456789abcdef01234567/retry').set(bearer(dashboard.token));
    expect(retry.status).toBe(403);
    expect(retry.body.message).toContain('lacks the scope "vk-admin"');
    expect((await request(herald.url).post('/vk/deliveries/0123456789abcdef01234567/retry').set(bearer(operator.token))).status).toBe(404);
  });

  it('answers 401 for an unknown, malformed or missing token, and SYSTEM_TOKEN holds every scope', async () => {
    expect((await postMetrics(herald, 'not-a-token-anyone-issued')).status).toBe(401);
    expect((await postMetrics(herald, ci.token.slice(1))).status).toBe(401);
    expect((await request(herald.url).post('/metrics/image').set('Authorization', `Basic ${grafana.token}`).send({})).status).toBe(401);
    expect((await request(herald.url).post('/metrics/image').send({})).status).toBe(401);
    // A client of the render service sends its old header: told which one Herald reads.
    const legacy = await request(herald.url).post('/metrics/image').set('Authorize', herald.token).send({});
    expect(legacy.status).toBe(401);
    expect(legacy.body.message).toBe(
      'Missing Authorization header: send "Authorization: Bearer <token>" (the render service\'s "Authorize: <token>" header is not read here)',
    );
    const raw = await request(herald.url).post('/metrics/image').set('Authorization', herald.token).send({});
    expect(raw.body.message).toBe('Authorization header must use the Bearer scheme: send "Authorization: Bearer <token>"');

    expect((await postMetrics(herald, herald.token)).status).toBe(400);
    expect((await postRender(herald, herald.token)).status).toBe(400);
    expect((await request(herald.url).get('/vk/routes').set(bearer(herald.token))).status).toBe(200);
    expect((await request(herald.url).post('/vk/deliveries/0123456789abcdef01234567/retry').set(bearer(herald.token))).status).toBe(404);
  });

  it("shows each endpoint's scope in Swagger", async () => {
    const spec = (await request(herald.url).get('/docs-json')).body;
    expect(spec.components.securitySchemes['api-token']).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque' });
    const metrics = spec.paths['/metrics/image'].post;
    expect(metrics['x-herald-scopes']).toEqual(['metrics']);
    expect(metrics.description).toMatch(/^\*\*Scope:\*\* `metrics`/);
    expect(metrics.responses).toHaveProperty('403');
    expect(metrics.responses).toHaveProperty('429');
    expect(spec.paths['/render/discord-message'].post['x-herald-scopes']).toEqual(['render']);
    expect(spec.paths['/vk/deliveries'].get.description).toMatch(/^\*\*Scope:\*\* `read` or `vk-admin`/);
    expect(spec.paths['/vk/deliveries/{id}/retry'].post['x-herald-scopes']).toEqual(['vk-admin']);
    expect(spec.paths['/health/live'].get['x-herald-scopes']).toBeUndefined();
    expect(spec.paths['/metrics/dashboards'].get['x-herald-scopes']).toEqual(['read', 'metrics']);
  });
});

describe('Rotating a client token', () => {
  const old = issue('grafana', ['metrics']);
  const next = issue('grafana', ['metrics']);
  let file: TokensFile;
  let herald: HeraldUnderTest;

  beforeAll(async () => {
    file = new TokensFile([old]);
    herald = await bootHerald({ API_TOKENS_FILE: file.path, API_TOKENS_POLL_INTERVAL_MS: '200', BROWSER_POOL_SIZE: '1' });
  });
  afterAll(() => herald?.close());

  it('takes both tokens while the file lists both, then refuses the old one once it is removed, without a restart', async () => {
    expect((await postMetrics(herald, old.token)).status).toBe(400);
    expect((await postMetrics(herald, next.token)).status).toBe(401);

    file.write([old, next]);
    await eventually(async () => (await postMetrics(herald, next.token)).status === 400, 30_000, 200);
    expect((await postMetrics(herald, old.token)).status).toBe(400);

    file.write([next]);
    await eventually(async () => (await postMetrics(herald, old.token)).status === 401, 30_000, 200);
    expect((await postMetrics(herald, next.token)).status).toBe(400);
  });

  it('keeps the tokens in force when the changed file is invalid', async () => {
    const invalidReloads = () => metric(herald.url, 'herald_api_token_reloads_total', { outcome: 'invalid' });
    const before = await invalidReloads();
    file.writeRaw('tokens:\n  - name: grafana\n    sha256: not-a-hash\n    scopes: [metrics]\n');
    await eventually(async () => (await invalidReloads()) > before, 30_000, 200);
    expect((await postMetrics(herald, next.token)).status).toBe(400);
  });
});

describe('Per-token rate limits', () => {
  const old = issue('grafana', ['metrics', 'render']);
  const next = issue('grafana', ['metrics', 'render']);
  const other = issue('dashboards', ['metrics']);
  const watcher = issue('watcher', ['metrics', 'read']);
  let replicaA: HeraldUnderTest;
  let replicaB: HeraldUnderTest;

  beforeAll(async () => {
    const file = new TokensFile([old, next, other, watcher]);
    replicaA = await bootHerald({ API_TOKENS_FILE: file.path, API_RATE_LIMITS: 'metrics=3/10s', BROWSER_POOL_SIZE: '1' });
    // A second replica on the same database: the budget is shared through MongoDB.
    replicaB = await bootHerald(replicaA.env, { fresh: false });
  });
  afterAll(async () => {
    await replicaB?.close();
    await replicaA?.close();
  });

  it('counts per client name and scope across tokens and replicas, answers 429 with Retry-After, and admits again after it', async () => {
    const first = await postMetrics(replicaA, old.token);
    expect(first.status).toBe(400);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(first.headers['x-ratelimit-remaining']).toBe('2');
    expect((await postMetrics(replicaB, next.token)).status).toBe(400);
    expect((await postMetrics(replicaA, next.token)).status).toBe(400);

    const refused = await postMetrics(replicaB, old.token);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(refused.body.message).toMatch(/^The token "grafana" made more than 3 "metrics" requests in 10 s; retry after \d+ s$/);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect((await postMetrics(replicaA, next.token)).status).toBe(429);

    // Another client, and the same client under another scope, have budgets of their own.
    expect((await postMetrics(replicaA, other.token)).status).toBe(400);
    expect((await postRender(replicaA, old.token)).status).toBe(400);

    const blocked = await postMetrics(replicaB, old.token);
    expect(blocked.status).toBe(429);
    const latest = Number(blocked.headers['retry-after']);
    await new Promise((resolve) => setTimeout(resolve, latest * 1000 + 250));
    const again = await postMetrics(replicaB, old.token);
    expect(again.status).toBe(400);
    expect(again.headers['retry-after']).toBeUndefined();
  });

  it("counts a GET under `read` when the token holds it, so a feature's budget does not shut its dashboards, and Reset counts down", async () => {
    const first = await postMetrics(replicaA, watcher.token);
    expect(first.status).toBe(400);
    expect(first.headers['x-ratelimit-reset']).toBe('10');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const second = await postMetrics(replicaB, watcher.token);
    // The first hit ages out (and gives one request back) about 8 s from now, not a whole window.
    expect(Number(second.headers['x-ratelimit-reset'])).toBeLessThanOrEqual(8);
    expect((await postMetrics(replicaA, watcher.token)).status).toBe(400);
    expect((await postMetrics(replicaA, watcher.token)).status).toBe(429);

    // GET /metrics/dashboards declares ['metrics', 'read']: still admitted, under the `read` budget (600 / 1 min).
    const listing = await request(replicaA.url).get('/metrics/dashboards').set(bearer(watcher.token));
    expect(listing.status).toBe(200);
    expect(listing.headers['x-ratelimit-limit']).toBe('600');
  });
});
