import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { ObjectStorage } from '../../src/storage/object-storage';
import { LegacyBackend, type LegacyCall } from '../stand-ins/backend/legacy-backend';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { DEFAULT_GUILD } from '../stand-ins/discord/guild-fixture';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { makeBucketPublic, publicBaseOf } from '../support/public-bucket';
import { requireEnv } from '../support/servers';
import { botEnv } from './discord-support';

jest.setTimeout(240_000);

/** BACKEND_PROTOCOL=legacy: the render service's backend gets the calls it always got, and works unchanged. */
describe('The render service backend protocol', () => {
  const bucket = `herald-${randomBytes(5).toString('hex')}`;
  const token = requireEnv('TEST_SYSTEM_TOKEN');
  let discord: DiscordStandIn;
  let backend: LegacyBackend;
  let herald: HeraldUnderTest;

  beforeAll(async () => {
    discord = await startDiscordStandIn();
    backend = await LegacyBackend.start(token);
    herald = await bootHerald(
      botEnv(discord, backend, {
        S3_BUCKET: bucket,
        BACKEND_PROTOCOL: 'legacy',
        S3_PUBLIC_URL: publicBaseOf(bucket),
        // The render service's layout: FILES_BUCKET_FOLDER/<guild>-<channel name>/<message id>
        DISCORD_IMAGE_KEY_TEMPLATE: 'renders/{guildId}-{channelName}/{messageId}',
      }),
    );
    await discord.waitForIdentify(1);
    await makeBucketPublic(bucket);
    backend.attachScreen(discord.guild.id, 'general');
  });

  afterAll(async () => {
    await herald?.close();
    await backend?.stop();
    await discord?.stop();
  });

  const storage = () => herald.app.get(ObjectStorage);
  const callsOf = (link: string) => backend.calls.filter((call) => call.query.jump_url === link || call.query.message_link === link);

  it('tells the backend of a new, an edited and a deleted message with exactly the calls the render service made', async () => {
    const general = discord.channels.general;
    const sent = discord.messageCreate({ channelId: general.id, author: discord.users.alice, content: 'Release 2.4 is out' });
    const link = `https://discord.com/channels/${discord.guild.id}/${general.id}/${sent.id}`;
    const key = `renders/${discord.guild.id}-general/${sent.id}`;
    const publicUrl = `${publicBaseOf(bucket)}/${key}`;

    // New message: rendered under the configured key, then POST with its public URL.
    await backend.waitUntil(() => callsOf(link).length >= 1, 'the POST for the new message');
    const created = await fetch(publicUrl);
    expect(created.status).toBe(200);
    // Overwritten in place by an edit: a CDN keeps it a minute at most.
    expect(created.headers.get('cache-control')).toBe('public, max-age=60');
    const firstImage = Buffer.from(await created.arrayBuffer());
    expect(firstImage).toEqual(await storage().get(key));

    // Edit: rendered again to the same key, then PUT.
    discord.messageUpdate(general.id, sent.id, { content: 'Release 2.4.1 is out', editedAt: new Date() });
    await backend.waitUntil(() => callsOf(link).length >= 2, 'the PUT for the edit');
    const edited = Buffer.from(await (await fetch(publicUrl)).arrayBuffer());
    expect(edited.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(edited.equals(firstImage)).toBe(false);

    // Delete: the object goes, then DELETE.
    discord.messageDelete(general.id, sent.id);
    await backend.waitUntil(() => callsOf(link).length >= 3, 'the DELETE');
    expect(await storage().exists(key)).toBe(false);
    // Give a stray repeat the chance to arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(callsOf(link).map(({ method, route, query, status, bodyBytes }: LegacyCall) => ({ method, route, query, status, bodyBytes }))).toEqual([
      {
        method: 'POST',
        route: '/discord/images',
        query: { s3_urn: publicUrl, guild: discord.guild.id, channel: 'general', jump_url: link },
        status: 200,
        bodyBytes: 0,
      },
      { method: 'PUT', route: '/discord/images', query: { jump_url: link }, status: 200, bodyBytes: 0 },
      { method: 'DELETE', route: '/discord/bot/images', query: { message_link: link }, status: 200, bodyBytes: 0 },
    ]);
    for (const call of callsOf(link)) {
      expect(call.headers.authorize).toBe(token);
      expect(call.headers.authorization).toBeUndefined();
    }
    expect(backend.keptLinks()).not.toContain(link);
  });

  it('keeps the calls of each message in order while the backend fails, and retries until it takes them', async () => {
    const general = discord.channels.general;
    const builds = discord.channels.builds;
    backend.failWith(503);
    const failedBefore = backend.calls.filter((call) => call.status === 503).length;

    const first = discord.messageCreate({ channelId: general.id, author: discord.users.bob, content: 'first' });
    const second = discord.messageCreate({ channelId: builds.id, author: discord.users.carol, content: 'second' });
    await eventually(() => storage().exists(`renders/${discord.guild.id}-general/${first.id}`), 60_000);
    discord.messageUpdate(general.id, first.id, { content: 'first, corrected', editedAt: new Date() });
    await backend.waitUntil(() => backend.calls.filter((call) => call.status === 503).length >= failedBefore + 3, 'failed calls');
    backend.recover();

    const firstLink = `https://discord.com/channels/${discord.guild.id}/${general.id}/${first.id}`;
    const secondLink = `https://discord.com/channels/${discord.guild.id}/${builds.id}/${second.id}`;
    const answered = (link: string) => callsOf(link).filter((call) => call.status !== 503);
    await backend.waitUntil(() => answered(firstLink).length >= 2 && answered(secondLink).length >= 1, 'the calls owed');
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // Never a PUT before its POST (the backend would have answered 404), never one twice.
    expect(answered(firstLink).map((call) => [call.method, call.status])).toEqual([
      ['POST', 200],
      ['PUT', 200],
    ]);
    expect(answered(secondLink).map((call) => [call.method, call.status, call.query.channel])).toEqual([['POST', 200, 'builds']]);
  });

  it('takes the 404 the backend answers to most deletes as done: nothing parked, readiness and presence stay up', async () => {
    const { general, builds } = discord.channels;
    const post = async (channelId: string, content: string) => {
      const sent = discord.messageCreate({ channelId, author: discord.users.carol, content });
      const link = `https://discord.com/channels/${discord.guild.id}/${channelId}/${sent.id}`;
      await backend.waitUntil(() => callsOf(link).some((call) => call.method === 'POST' && call.status === 200), `the POST of ${content}`);
      return { id: sent.id, channelId, link };
    };
    // `general` is shown on a screen; the backend keeps its 3 newest images, so a fourth message drops the first.
    const inGeneral: Array<{ id: string; channelId: string; link: string }> = [];
    for (const n of [1, 2, 3, 4]) inGeneral.push(await post(general.id, `general ${n}`));
    expect(backend.keptLinks()).not.toContain(inGeneral[0].link);
    // `builds` is on no screen: the backend keeps its images, but a delete of one is a 404 all the same.
    const inBuilds = [await post(builds.id, 'builds 1'), await post(builds.id, 'builds 2')];

    for (const message of [inGeneral[0], ...inBuilds, inGeneral[3]]) discord.messageDelete(message.channelId, message.id);
    const deletes = (message: { link: string }) => callsOf(message.link).filter((call) => call.method === 'DELETE');
    await backend.waitUntil(() => [inGeneral[0], ...inBuilds, inGeneral[3]].every((message) => deletes(message).length >= 1), 'the four DELETEs');
    expect([inGeneral[0], ...inBuilds, inGeneral[3]].map((message) => deletes(message).map((call) => call.status))).toEqual([
      [404],
      [404],
      [404],
      [200],
    ]);

    // Herald has nothing left to do: no parked callback, no retry, the backend check up, the bot online.
    const { body: outbox } = await request(herald.url)
      .get('/outbox?queue=backend')
      .set({ authorization: `Bearer ${herald.token}` });
    expect((outbox as { parked: unknown[] }).parked).toEqual([]);
    const ready = await fetch(`${herald.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { info: Record<string, unknown> }).info.backend).toEqual({ status: 'up' });
    // Presence follows readiness every second (DISCORD_PRESENCE_INTERVAL_MS): a degraded backend would show as idle.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(discord.presences.at(-1)?.status).toBe('online');
    expect([inGeneral[0], ...inBuilds].map((message) => deletes(message).length)).toEqual([1, 1, 1]);
  });
});

/**
 * What the backend does with `s3_urn`: keeps it, and deletes the object by cutting bucket and key out of it (when a
 * channel's fourth image arrives, and on a delete). With S3_PUBLIC_URL as the render service's URLs were
 * (`https://<bucket>.s3.amazonaws.com`), that finds Herald's object, whatever the channel or thread is called.
 */
describe("The render service backend deleting Herald's objects", () => {
  const bucket = `herald-${randomBytes(5).toString('hex')}`;
  const token = requireEnv('TEST_SYSTEM_TOKEN');
  const channelName = 'dev chat — Ünïcode';
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: requireEnv('TEST_S3_ENDPOINT'),
    forcePathStyle: true,
    credentials: { accessKeyId: requireEnv('TEST_S3_ACCESS_KEY'), secretAccessKey: requireEnv('TEST_S3_SECRET_KEY') },
  });
  let discord: DiscordStandIn;
  let backend: LegacyBackend;
  let herald: HeraldUnderTest;

  beforeAll(async () => {
    discord = await startDiscordStandIn({ guild: { channels: [...DEFAULT_GUILD.channels, { key: 'odd', name: channelName }] } });
    // The backend's S3 is the test's: its aioboto3 delete_object with the bucket and key it cut out.
    backend = await LegacyBackend.start(token, async (Bucket, Key) => void (await s3.send(new DeleteObjectCommand({ Bucket, Key }))));
    herald = await bootHerald(
      botEnv(discord, backend, {
        S3_BUCKET: bucket,
        BACKEND_PROTOCOL: 'legacy',
        S3_PUBLIC_URL: `https://${bucket}.s3.amazonaws.com`,
        DISCORD_IMAGE_KEY_TEMPLATE: 'renders/{guildId}-{channelName}/{messageId}',
        // The render service's screenshots were 450 px wide.
        DISCORD_RENDER_WIDTH: '450',
      }),
    );
    await discord.waitForIdentify(1);
    backend.attachScreen(discord.guild.id, channelName);
  });

  afterAll(async () => {
    await herald?.close();
    await backend?.stop();
    await discord?.stop();
    s3.destroy();
  });

  it('sends the key as stored in s3_urn, so the object the backend drops from a channel named with spaces and accents is gone; images are DISCORD_RENDER_WIDTH wide', async () => {
    const odd = discord.channels.odd;
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4]) {
      const sent = discord.messageCreate({ channelId: odd.id, author: discord.users.alice, content: `message ${n}` });
      const link = `https://discord.com/channels/${discord.guild.id}/${odd.id}/${sent.id}`;
      await backend.waitUntil(() => backend.calls.some((call) => call.query.jump_url === link && call.status === 200), `the POST of message ${n}`);
      ids.push(sent.id);
    }
    const keyOf = (id: string) => `renders/${discord.guild.id}-${channelName}/${id}`;
    const posted = backend.calls.find((call) => call.method === 'POST' && call.query.jump_url.endsWith(ids[0]));
    expect(posted?.query.s3_urn).toBe(`https://${bucket}.s3.amazonaws.com/${keyOf(ids[0])}`);
    // The fourth POST made the backend drop the first image: it deleted exactly Herald's object.
    expect(backend.deletedObjects).toEqual([{ bucket, key: keyOf(ids[0]) }]);
    const storage = herald.app.get(ObjectStorage);
    expect(await storage.exists(keyOf(ids[0]))).toBe(false);
    const png = await storage.get(keyOf(ids[1]));
    expect(png?.readUInt32BE(16)).toBe(450);
  });
});
