import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { bootHerald, type HeraldUnderTest } from '../support/app';
import { notifyClient, notifyEnv, texts, waitForTexts } from './notify-support';

jest.setTimeout(180_000);

describe('notifications queued when Herald stops', () => {
  let discord: DiscordStandIn;
  let first: HeraldUnderTest | undefined;
  let second: HeraldUnderTest | undefined;

  beforeAll(async () => {
    discord = await startDiscordStandIn();
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await discord?.stop();
  });

  it('are sent after the restart, each once and in order', async () => {
    const channelId = discord.channels.general.id;
    const path = `/channels/${channelId}/messages`;
    first = await bootHerald(notifyEnv(discord, { NOTIFY_DEFAULT_CHANNEL_ID: channelId }));
    const env = first.env;
    const before = notifyClient(first);

    discord.failNext({ status: 503, times: 100_000, method: 'POST', path });
    const expected = Array.from({ length: 5 }, (_, index) => `before restart ${index}`);
    const ids: string[] = [];
    for (const message of expected) ids.push(await before.send({ message }));
    // The first one has really been tried (and refused) before the shutdown; all are still queued.
    await before.until(ids[0], (view) => view.lastError?.status === 503);
    for (const id of ids) expect((await before.view(id)).state).toBe('queued');

    await first.close();
    first = undefined;
    discord.clearFailures();
    expect(texts(discord, channelId)).toEqual([]);

    // Same database, same configuration: a new process.
    second = await bootHerald(env, { fresh: false });
    const after = notifyClient(second);
    expect(await waitForTexts(discord, channelId, 'before restart ', 5)).toEqual(expected);
    for (const id of ids) expect((await after.until(id, (view) => view.state === 'sent')).messageId).toEqual(expect.any(String));

    // Nothing went out twice: a later notification arrives right after the five.
    await after.send({ message: 'after restart' });
    expect(await waitForTexts(discord, channelId, '', 6)).toEqual([...expected, 'after restart']);
    expect(discord.requestCount({ method: 'POST', path, status: 200 })).toBe(6);
  });
});
