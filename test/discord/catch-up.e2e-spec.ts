import { startBotWorld, type BotWorld } from './discord-support';

jest.setTimeout(180_000);

/** How long a message that was going to be drawn takes at most once the ones read back with it were called back. */
const SETTLE_MS = 3_000;

describe('Messages posted while the bot was away get their images when it connects again', () => {
  let world: BotWorld;
  /** The latest message of #general Herald has drawn (the first test sets it). */
  let lastInGeneral = '';

  beforeAll(async () => {
    world = await startBotWorld({ DISCORD_CATCH_UP_LIMIT: '3' });
  });

  afterAll(async () => {
    await world?.close();
  });

  /** The pages of a channel's history Herald asked the stand-in for since `since`: forward (`after`) or back (`before`). */
  function pagesOf(channelId: string, since: Date, direction: 'after' | 'before' = 'after') {
    return world.discord.requests.filter(
      (request) =>
        request.method === 'GET' &&
        request.path === `/channels/${channelId}/messages` &&
        request.at >= since &&
        request.query[direction] !== undefined,
    );
  }

  it('draws what people posted while Herald was stopped, read back from its last recorded message, once each', async () => {
    const { discord, backend } = world;
    const { general, secret } = discord.channels;
    const seen = await world.post({ author: discord.users.alice, content: 'before the stop' });
    const stoppedAt = new Date();
    let fromBot = '';
    let missed: string[] = [];
    await world.restart(() => {
      fromBot = discord.seedMessage({ channelId: general.id, author: discord.users.relay, content: 'another bot, skipped' }).id;
      // Both in one millisecond: the later id is the later message.
      const at = new Date();
      missed = [
        discord.seedMessage({ channelId: general.id, author: discord.users.bob, content: 'posted while Herald was down', timestamp: at }).id,
        discord.seedMessage({ channelId: general.id, author: discord.users.carol, content: 'me too', timestamp: at }).id,
      ];
      discord.seedMessage({ channelId: secret.id, author: discord.users.alice, content: 'in a channel the bot cannot read' });
    });

    for (const id of missed) {
      const created = await backend.waitFor({ messageId: id, event: 'created' });
      expect(await world.storage().exists(`discord/${discord.guild.id}/${general.id}/${id}.png`)).toBe(true);
      expect(created.urn).toContain(id);
    }
    expect(pagesOf(general.id, stoppedAt).map((request) => request.query.after)).toEqual([seen.id]);
    // The latest 100 up to that message, compared with their records (nothing changed there).
    expect(pagesOf(general.id, stoppedAt, 'before').map((request) => request.query)).toEqual([
      { before: (BigInt(seen.id) + 1n).toString(), limit: '100' },
    ]);
    // Not asked at all: Discord counts a refused read (403) against the bot's invalid-request limit.
    expect(pagesOf(secret.id, stoppedAt)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(backend.callbacks({ messageId: seen.id })).toHaveLength(1);
    expect(backend.callbacks({ messageId: fromBot })).toEqual([]);
    for (const id of missed) expect(backend.callbacks({ messageId: id })).toHaveLength(1);
    lastInGeneral = missed[1];
  });

  it('reads back at most DISCORD_CATCH_UP_LIMIT messages of a channel, the oldest first', async () => {
    const { discord, backend } = world;
    const { builds } = discord.channels;
    const before = await world.post({ channelId: builds.id, author: discord.users.alice, content: 'the last one before the stop' });
    const stoppedAt = new Date();
    let missed: string[] = [];
    await world.restart(() => {
      missed = Array.from(
        { length: 5 },
        (_, index) => discord.seedMessage({ channelId: builds.id, author: discord.users.bob, content: `missed ${index}` }).id,
      );
    });

    for (const id of missed.slice(0, 3)) await backend.waitFor({ messageId: id, event: 'created' });
    // One page, asking for one more than the limit: that one tells Herald that more were missed than it reads back.
    expect(pagesOf(builds.id, stoppedAt).map((request) => [request.query.after, request.query.limit])).toEqual([[before.id, '4']]);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(backend.callbacks({ messageId: missed[3] })).toEqual([]);
    expect(backend.callbacks({ messageId: missed[4] })).toEqual([]);
  });

  it('removes the image of a message deleted while Herald was stopped, and redraws one edited meanwhile', async () => {
    const { discord, backend } = world;
    const { announcements } = discord.channels;
    const edited = await world.post({ channelId: announcements.id, author: discord.users.alice, content: 'to be edited while away' });
    const removed = await world.post({ channelId: announcements.id, author: discord.users.bob, content: 'to be deleted while away' });
    const kept = await world.post({ channelId: announcements.id, author: discord.users.carol, content: 'left alone' });
    await world.restart(() => {
      discord.seedEdit(announcements.id, edited.id, { content: 'edited while Herald was down' });
      discord.seedDelete(announcements.id, removed.id);
    });

    const updated = await backend.waitFor({ messageId: edited.id, event: 'updated' });
    expect(updated).toMatchObject({ urn: edited.urn, editedAt: expect.any(String) });
    const deleted = await backend.waitFor({ messageId: removed.id, event: 'deleted' });
    expect(deleted.urn).toBe(removed.urn);
    expect(await world.storage().exists(`discord/${discord.guild.id}/${announcements.id}/${removed.id}.png`)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(backend.callbacks({ messageId: kept.id }).map((callback) => callback.event)).toEqual(['created']);
    expect(backend.callbacks({ messageId: edited.id }).map((callback) => callback.event)).toEqual(['created', 'updated']);
  });

  it('also after a gateway session Discord could not resume', async () => {
    const { discord, backend } = world;
    const identified = discord.identifyCount;
    const lostAt = new Date();
    const missed = discord.seedMessage({
      channelId: discord.channels.general.id,
      author: discord.users.alice,
      content: 'while the session was lost',
    });
    discord.invalidateSessions();
    await discord.waitForIdentify(identified + 1);

    await backend.waitFor({ messageId: missed.id, event: 'created' });
    // From the later of the two messages of one millisecond the first test drew, so neither is read back again.
    expect(pagesOf(discord.channels.general.id, lostAt).map((request) => request.query.after)).toEqual([lastInGeneral]);
  });
});
