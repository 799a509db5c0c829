import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { bootHerald, type HeraldUnderTest } from '../support/app';
import { ensureBuilt, spawnHerald, type HeraldReplica } from '../support/process';
import { notifyClient, notifyEnv, texts, waitForTexts } from './notify-support';

jest.setTimeout(300_000);

/** Two replicas as two Node processes on one FerretDB: each notification sent once, a channel's in acceptance order. */
describe('notifications through two replica processes', () => {
  let discord: DiscordStandIn;
  let herald: HeraldUnderTest;
  let replica: HeraldReplica | undefined;

  beforeAll(async () => {
    ensureBuilt();
    discord = await startDiscordStandIn();
    herald = await bootHerald(notifyEnv(discord, { NOTIFY_DEFAULT_CHANNEL_ID: discord.channels.general.id }));
    replica = await spawnHerald(herald.env, { fresh: false });
  });

  afterAll(async () => {
    if (replica) expect(await replica.stop()).toBe(0);
    await herald?.close();
    await discord?.stop();
  });

  it('sends 40 notifications accepted alternately by the two, each once and in order, while Discord answers 500s', async () => {
    const channelId = discord.channels.announcements.id;
    discord.failNext({ status: 500, times: 12, method: 'POST', path: `/channels/${channelId}/messages` });
    const clients = [notifyClient(herald), notifyClient({ ...herald, url: replica!.url })];
    const expected = Array.from({ length: 40 }, (_, index) => `replicas ${String(index).padStart(2, '0')}`);
    for (const [index, message] of expected.entries()) await clients[index % 2].send({ message, channelId });

    expect(await waitForTexts(discord, channelId, 'replicas ', 40, 180_000)).toEqual(expected);
    expect(texts(discord, channelId, 'replicas ')).toEqual(expected);
    expect(discord.requestCount({ method: 'POST', path: `/channels/${channelId}/messages`, status: 200 })).toBe(40);
  });
});
