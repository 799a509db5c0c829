import request from 'supertest';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { bootHerald, type HeraldUnderTest } from '../support/app';

jest.setTimeout(180_000);

const NO_ENDPOINT_HINT = "no endpoint here: Herald's endpoints are listed at /docs";

/** What a client that picked the wrong method, path or body type is told. */
describe('paths, methods and body types at the door', () => {
  let discord: DiscordStandIn;
  let herald: HeraldUnderTest;
  let auth: { Authorization: string };

  beforeAll(async () => {
    discord = await startDiscordStandIn();
    herald = await bootHerald({
      HERALD_ROLES: 'api',
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      NOTIFY_DEFAULT_CHANNEL_ID: discord.channels.general.id,
      DRONE_WEBHOOK_SECRET: 'drone-shared-secret-for-tests',
      DRONE_CHANNEL_ID: discord.channels.general.id,
      BROWSER_EXECUTABLE_PATH: '/nonexistent/chromium',
    });
    auth = { Authorization: `Bearer ${herald.token}` };
  });

  afterAll(async () => {
    await herald?.close();
    await discord?.stop();
  });

  it.each([
    ['GET', '/notify', 'POST, OPTIONS'],
    ['DELETE', '/drone/webhook', 'POST, OPTIONS'],
    ['PUT', '/notify/665f1c2e8b3e4a0012345678', 'GET, PATCH, DELETE, HEAD, OPTIONS'],
    ['POST', '/health/live', 'GET, HEAD, OPTIONS'],
  ])('a wrong method on a path Herald serves (%s %s) answers 405 with Allow', async (method, path, allow) => {
    const response = await request(herald.url)[method.toLowerCase() as 'get'](path).set(auth);
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe(allow);
    expect(response.body).toEqual({
      statusCode: 405,
      error: 'Method Not Allowed',
      message: `${method} is not allowed on ${path}: it takes ${allow} (see /docs)`,
    });
  });

  it('OPTIONS answers 204 with Allow, HEAD is answered where GET is, and a path nothing serves is 404 with the hint', async () => {
    const options = await request(herald.url).options('/notify');
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('POST, OPTIONS');

    expect((await request(herald.url).head('/health/live')).status).toBe(200);
    const head = await request(herald.url).head('/notify');
    expect(head.status).toBe(405);
    expect(head.headers.allow).toBe('POST, OPTIONS');

    for (const method of ['get', 'options', 'delete'] as const) {
      const response = await request(herald.url)[method]('/no-such-path');
      expect(response.status).toBe(404);
      if (method !== 'options') expect(response.body.message).toContain(NO_ENDPOINT_HINT);
    }
  });

  it.each([
    ['a form', 'application/x-www-form-urlencoded', 'message=hello'],
    ['JSON labelled as a form', 'application/x-www-form-urlencoded', '{"message":"hello"}'],
    ['text', 'text/plain', 'hello'],
    ['malformed JSON', 'application/json', '{"message": '],
  ])('%s to a path nothing serves is 404, and to a method its path does not take 405, not a body error', async (_what, type, body) => {
    const unknown = await request(herald.url).post('/no-such-path').set(auth).set('Content-Type', type).send(body);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe(`Cannot POST /no-such-path: ${NO_ENDPOINT_HINT}, and GET / names the features this process runs`);

    const wrongMethod = await request(herald.url).post('/').set(auth).set('Content-Type', type).send(body);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD, OPTIONS');
  });

  it('reads a form only on POST /notify, as its OpenAPI entry says; elsewhere a form is 415 naming the type', async () => {
    const sent = await request(herald.url).post('/notify').set(auth).type('form').send('message=a%20form%20for%20Kahuna%27s%20clients');
    expect(sent.status).toBe(202);

    const patch = await request(herald.url).patch(`/notify/${sent.body.id}`).set(auth).type('form').send('message=edited');
    expect(patch.status).toBe(415);
    expect(patch.body).toEqual({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: `Content-Type application/x-www-form-urlencoded is not read by PATCH /notify/${sent.body.id}: send the body as JSON with Content-Type: application/json`,
    });
    const retry = await request(herald.url).post('/outbox/665f1c2e8b3e4a0012345678/retry').set(auth).type('form').send('force=true');
    expect(retry.status).toBe(415);

    const docs = (await request(herald.url).get('/docs-json')).body as {
      paths: Record<string, Record<string, { requestBody: { content: Record<string, unknown> } }>>;
    };
    expect(Object.keys(docs.paths['/notify'].post.requestBody.content)).toEqual(['application/json', 'application/x-www-form-urlencoded']);
    expect(Object.keys(docs.paths['/notify/{id}'].patch.requestBody.content)).toEqual(['application/json']);
  });
});
