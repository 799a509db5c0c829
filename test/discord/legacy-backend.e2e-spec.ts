import { randomBytes } from 'node:crypto';
import { ObjectStorage } from '../../src/storage/object-storage';
import { LegacyBackend, type LegacyCall } from '../stand-ins/backend/legacy-backend';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
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
    expect(backend.images.has(link)).toBe(false);
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
});
