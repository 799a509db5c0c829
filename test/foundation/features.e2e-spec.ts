import { GatewayIntentBits } from 'discord-api-types/v10';
import { createConnection } from 'mongoose';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { droneBuildEvent, newBuildScenario } from '../stand-ins/drone/drone-payloads';
import { droneDelivery, postDroneDelivery } from '../stand-ins/drone/drone-signer';
import { eventually } from '../support/app';
import { chromiumChildrenOf, startHeraldProcess, type HeraldProcess } from '../support/process';
import { freePort, requireEnv, testMongoUri } from '../support/servers';

jest.setTimeout(120_000);

const SECRET = 'drone-shared-secret-for-tests';

/**
 * A team that wants build messages and notifications sets DISCORD_TOKEN and DRONE_WEBHOOK_SECRET, and nothing about
 * S3 or rendering: its chat must not be read, and Herald must need neither S3 nor Chromium.
 */
describe('a Drone + Notify deployment: only what it uses', () => {
  let discord: DiscordStandIn;
  let herald: HeraldProcess;
  let url: string;
  let mongoUri: string;
  const token = requireEnv('TEST_SYSTEM_TOKEN');

  beforeAll(async () => {
    discord = await startDiscordStandIn();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    mongoUri = testMongoUri();
    herald = startHeraldProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      MONGODB_URI: mongoUri,
      SYSTEM_TOKEN: token,
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_PRESENCE_INTERVAL_MS: '1000',
      DRONE_WEBHOOK_SECRET: SECRET,
      DRONE_CHANNEL_ID: discord.channels.builds.id,
    });
    await discord.waitForIdentify(1, { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    herald?.child.kill('SIGTERM');
    await herald?.exited;
    await discord?.stop();
  });

  it('logs one line naming the features that are on, what they use, and what would turn the others on', async () => {
    const line = await eventually(
      () =>
        herald
          .output()
          .stdout.split('\n')
          .find((candidate) => candidate.includes('Features on:')),
      60_000,
    );
    const { msg } = JSON.parse(line) as { msg: string };
    expect(msg).toContain('drone (DRONE_WEBHOOK_SECRET + DISCORD_TOKEN; uses mongodb, discord-api)');
    expect(msg).toContain('notify (DISCORD_TOKEN; uses mongodb, discord-api)');
    expect(msg).toMatch(/Off: .*message-images \(set DISCORD_RENDER_MESSAGES=true\)/);
    expect(msg).toMatch(/render \(set S3_BUCKET \(or RENDER_API=true\)\)/);
  });

  it('is ready without S3 or a browser: readiness checks only MongoDB and the gateway, and no Chromium runs', async () => {
    const ready = await eventually(async () => {
      const response = await fetch(`${url}/health/ready`);
      return response.status === 200 ? ((await response.json()) as { details: Record<string, unknown> }) : undefined;
    }, 60_000);
    expect(Object.keys(ready.details).sort()).toEqual(['discord', 'mongodb']);
    expect(chromiumChildrenOf(herald.child.pid!)).toEqual([]);
    await discord.waitForPresence(
      (presence) => presence.status === 'online' && presence.activities.some((activity) => activity.state === 'All systems up'),
    );
  });

  it('connects without the message intents, so a message posted in a channel is never read', async () => {
    expect(discord.connectedIntents).toEqual([GatewayIntentBits.Guilds]);
    discord.messageCreate({ channelId: discord.channels.general.id, author: discord.users.alice, content: 'private chatter' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const connection = await createConnection(mongoUri).asPromise();
    try {
      expect(await connection.db!.collection('discord_message_images').countDocuments()).toBe(0);
    } finally {
      await connection.close();
    }
  });

  it('posts build messages', async () => {
    const build = newBuildScenario();
    const created = await postDroneDelivery(`${url}/drone/webhook`, droneDelivery(droneBuildEvent(build, { status: 'pending' }), { secret: SECRET }));
    expect(created).toMatchObject({ status: 200, body: { outcome: 'shown' } });
    expect(discord.messages(discord.channels.builds.id).some((stored) => stored.message.embeds[0]?.title?.includes(`${build.slug} #`))).toBe(true);

    // A Drone server set up with another secret: refused, and the log says which setting to compare.
    const forged = await postDroneDelivery(
      `${url}/drone/webhook`,
      droneDelivery(droneBuildEvent(build, { status: 'running' }), { secret: 'not-the-secret' }),
    );
    expect(forged.status).toBe(401);
    const warned = await eventually(() =>
      herald
        .output()
        .stdout.split('\n')
        .find((line) => line.includes('Drone webhook rejected')),
    );
    expect(JSON.parse(warned)).toMatchObject({
      level: 40,
      reason: 'signature does not match',
      msg: 'Drone webhook rejected: signature does not match (is DRONE_WEBHOOK_SECRET the same value here and on the Drone server?)',
    });
  });

  it('documents every endpoint, and answers an endpoint whose feature is off with 503 naming the setting', async () => {
    const docs = (await (await fetch(`${url}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining(['/render/discord-message', '/metrics/image', '/notify', '/drone/webhook', '/vk/routes']),
    );
    const render = await fetch(`${url}/render/discord-message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'hi' }),
    });
    expect(render.status).toBe(503);
    expect(await render.json()).toMatchObject({ feature: 'render', message: 'render is off: set S3_BUCKET (or RENDER_API=true)' });
    const vk = await fetch(`${url}/vk/routes`, { headers: { authorization: `Bearer ${token}` } });
    expect(vk.status).toBe(503);
    expect(await vk.json()).toMatchObject({ message: 'vk is off: set VK_TOKEN and VK_GROUP_ID' });
  });

  it('answers its own address with what it is and runs, and a path it does not serve with where its endpoints are', async () => {
    const index = await fetch(`${url}/`);
    expect(index.status).toBe(200);
    const body = (await index.json()) as { service: string; version: string; roles: string[]; docs: string; features: unknown[] };
    expect(body).toMatchObject({ service: 'Herald', version: expect.stringMatching(/^\d+\.\d+\.\d+/), docs: '/docs', openapi: '/docs-json' });
    expect(body.roles.sort()).toEqual(['api', 'discord', 'vk']);
    expect(body.features).toEqual(
      expect.arrayContaining([
        { name: 'drone', on: true, because: 'DRONE_WEBHOOK_SECRET + DISCORD_TOKEN' },
        { name: 'render', on: false, because: 'set S3_BUCKET (or RENDER_API=true)' },
      ]),
    );
    const docs = (await (await fetch(`${url}/docs-json`)).json()) as { info: { version: string }; paths: Record<string, unknown> };
    expect(docs.info.version).toBe(body.version);
    expect(docs.paths['/']).toBeDefined();
    expect(await (await fetch(`${url}/docs`)).text()).toContain('<title>Herald API</title>');

    // A person guessing (GET /health, GET /no-such-path) learns where the list of endpoints is; GET /notify is a 405
    // (test/http/routes).
    for (const [method, path] of [
      ['GET', '/health'],
      ['GET', '/no-such-path'],
    ]) {
      const response = await fetch(`${url}${path}`, { method });
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({
        message: `Cannot ${method} ${path}: no endpoint here: Herald's endpoints are listed at /docs, and GET / names the features this process runs`,
      });
    }
  });
});

describe('a Drone-only deployment without S3', () => {
  it('is ready and serves builds', async () => {
    const discord = await startDiscordStandIn();
    const port = await freePort();
    const herald = startHeraldProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      HERALD_ROLES: 'api',
      MONGODB_URI: testMongoUri(),
      SYSTEM_TOKEN: requireEnv('TEST_SYSTEM_TOKEN'),
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DRONE_WEBHOOK_SECRET: SECRET,
      DRONE_CHANNEL_ID: discord.channels.builds.id,
    });
    try {
      const ready = await eventually(async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
        return response.status === 200 ? ((await response.json()) as { details: Record<string, unknown> }) : undefined;
      }, 60_000);
      // No storage or browser check; `discord` says whether Discord takes the token this process posts with.
      expect(Object.keys(ready.details)).toEqual(['mongodb', 'discord']);
      const build = newBuildScenario();
      const shown = await postDroneDelivery(
        `http://127.0.0.1:${port}/drone/webhook`,
        droneDelivery(droneBuildEvent(build, { status: 'success' }), { secret: SECRET }),
      );
      expect(shown).toMatchObject({ status: 200, body: { outcome: 'shown', status: 'success' } });
      expect(discord.connectedSessions).toBe(0);
    } finally {
      herald.child.kill('SIGTERM');
      await herald.exited;
      await discord.stop();
    }
  });
});
