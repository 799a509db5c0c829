import {
  ActivityType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  HTTPError,
  Partials,
  type ClientEvents,
  type TextChannel,
} from 'discord.js';
import { solidPng, startDiscordStandIn, type DiscordStandIn } from './index';

jest.setTimeout(60_000);

/** The next time `client` emits `event` with arguments that `matches` accepts. */
function nextEvent<E extends keyof ClientEvents>(
  client: Client,
  event: E,
  matches: (...args: ClientEvents[E]) => boolean = () => true,
): Promise<ClientEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`no ${String(event)} within 20s`));
    }, 20_000);
    timer.unref();
    const listener = (...args: ClientEvents[E]): void => {
      if (!matches(...args)) return;
      clearTimeout(timer);
      client.off(event, listener);
      resolve(args);
    };
    client.on(event, listener);
  });
}

function newClient(
  standIn: DiscordStandIn,
  intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
): Client {
  return new Client({
    intents,
    partials: [Partials.Message, Partials.Channel],
    rest: { api: standIn.apiUrl, cdn: standIn.cdnUrl, retries: 3, offset: 0 },
  });
}

describe('Discord stand-in, driven by a plain discord.js client', () => {
  let standIn: DiscordStandIn;
  let client: Client;
  let general: TextChannel;

  beforeAll(async () => {
    standIn = await startDiscordStandIn();
    client = newClient(standIn);
    const ready = nextEvent(client, Events.ClientReady);
    await client.login(standIn.token);
    await ready;
    general = client.channels.cache.get(standIn.channels.general.id) as TextChannel;
  });

  afterAll(async () => {
    await client?.destroy();
    await standIn?.stop();
  });

  it('logs the bot in and hands it the guild with channels, coloured roles and members', async () => {
    expect(client.user?.id).toBe(standIn.bot.id);
    const guild = client.guilds.cache.get(standIn.guild.id);
    expect(guild?.name).toBe('Herald Test Guild');
    // Listed unavailable in READY, then sent whole with `unavailable: false`, as Discord does at start-up.
    expect(guild?.available).toBe(true);
    expect(general.name).toBe('general');
    // Without the Guild Members intent only the bot is listed; others come with their messages or over REST.
    expect([...(guild?.members.cache.keys() ?? [])]).toEqual([standIn.bot.id]);
    const alice = await guild!.members.fetch(standIn.users.alice.id);
    expect(alice.displayName).toBe('Alice');
    expect(alice.displayHexColor).toBe('#e91e63');
    expect(guild?.members.me?.permissionsIn(general).has('ViewChannel')).toBe(true);
    const secret = guild?.channels.cache.get(standIn.channels.secret.id);
    expect(secret && guild?.members.me?.permissionsIn(secret).has('ViewChannel')).toBe(false);
    expect(standIn.requestCount({ method: 'GET', path: '/gateway/bot' })).toBe(1);
  });

  it('delivers a message someone writes, with author, member, mentions, reply and attachment', async () => {
    const picture = solidPng(40, 30, [200, 40, 40]);
    const earlier = standIn.seedMessage({ channelId: general.id, author: standIn.users.bob, content: 'earlier words' });
    const received = nextEvent(client, Events.MessageCreate, (message) => message.author.id === standIn.users.alice.id);
    const sent = standIn.messageCreate({
      channelId: general.id,
      author: standIn.users.alice,
      content: `hey <@${standIn.users.bob.id}> look <:${standIn.emojis.party.name}:${standIn.emojis.party.id}>`,
      replyTo: earlier.id,
      attachments: [{ filename: 'red.png', data: picture }],
      embeds: [{ title: 'An embed', color: 0x00ff00 }],
    });
    const [message] = await received;
    expect(message.id).toBe(sent.id);
    expect(message.content).toContain('look');
    expect(message.member?.displayName).toBe('Alice');
    expect(message.mentions.users.map((user) => user.id)).toEqual([standIn.users.bob.id]);
    expect(message.reference?.messageId).toBe(earlier.id);
    expect(message.embeds[0]?.title).toBe('An embed');
    const attachment = message.attachments.first();
    expect(attachment).toMatchObject({ name: 'red.png', width: 40, height: 30, contentType: 'image/png' });
    const downloaded = Buffer.from(await (await fetch(attachment!.url)).arrayBuffer());
    expect(downloaded.equals(picture)).toBe(true);
    const avatar = await fetch(message.author.displayAvatarURL({ extension: 'png', size: 64 }));
    expect(avatar.status).toBe(200);
  });

  it('keeps what the bot sends with a file, echoes it over the gateway, and records edits and the delete', async () => {
    const echoed = nextEvent(client, Events.MessageCreate, (message) => message.author.id === client.user!.id);
    const report = Buffer.from('build log\n');
    const sent = await general.send({ content: 'build #1 running', files: [{ attachment: report, name: 'log.txt' }] });
    expect((await echoed)[0].id).toBe(sent.id);

    const [stored] = standIn.messages(general.id).filter((message) => message.message.id === sent.id);
    expect(stored?.message.author.id).toBe(standIn.bot.id);
    expect(stored?.attachments[0]?.filename).toBe('log.txt');
    expect(stored?.attachments[0]?.data.equals(report)).toBe(true);

    const updated = nextEvent(client, Events.MessageUpdate, (_old, message) => message.id === sent.id);
    await sent.edit({ content: 'build #1 passed', embeds: [{ title: 'passed', color: 0x2ecc71 }] });
    await updated;
    const edited = standIn.message(general.id, sent.id)!;
    expect(edited.message.content).toBe('build #1 passed');
    expect(edited.message.edited_timestamp).not.toBeNull();
    expect(edited.edits.map((version) => version.content)).toEqual(['build #1 running']);
    expect(edited.attachments.map((file) => file.filename)).toEqual(['log.txt']);

    const deleted = nextEvent(client, Events.MessageDelete, (message) => message.id === sent.id);
    await sent.delete();
    await deleted;
    expect(standIn.message(general.id, sent.id)?.deletedAt).toBeInstanceOf(Date);
    expect(standIn.messages(general.id).some((message) => message.message.id === sent.id)).toBe(false);
  });

  it('tells the bot about edits and deletes of messages it never cached', async () => {
    const old = standIn.seedMessage({ channelId: general.id, author: standIn.users.carol, content: 'before restart' });
    const updated = nextEvent(client, Events.MessageUpdate, (_old, message) => message.id === old.id);
    standIn.messageUpdate(general.id, old.id, { content: 'after restart' });
    const [before, after] = await updated;
    expect(before.partial).toBe(true);
    expect(after.content).toBe('after restart');

    const first = standIn.seedMessage({ channelId: general.id, author: standIn.users.carol, content: 'one' });
    const second = standIn.seedMessage({ channelId: general.id, author: standIn.users.carol, content: 'two' });
    const bulk = nextEvent(client, Events.MessageBulkDelete);
    standIn.messageDeleteBulk(general.id, [first.id, second.id]);
    const [messages] = await bulk;
    expect([...messages.keys()].sort()).toEqual([first.id, second.id].sort());
  });

  it("pages a channel's history as Discord does: after an id the oldest messages above it, newest first", async () => {
    const announcements = client.channels.cache.get(standIn.channels.announcements.id) as TextChannel;
    const ids = Array.from(
      { length: 5 },
      (_, index) => standIn.seedMessage({ channelId: announcements.id, author: standIn.users.bob, content: `m${index}` }).id,
    );

    const after = await announcements.messages.fetch({ after: ids[0], limit: 2, cache: false });
    expect([...after.keys()]).toEqual([ids[2], ids[1]]);
    const before = await announcements.messages.fetch({ before: ids[4], limit: 2, cache: false });
    expect([...before.keys()]).toEqual([ids[3], ids[2]]);
    const latest = await announcements.messages.fetch({ limit: 2, cache: false });
    expect([...latest.keys()]).toEqual([ids[4], ids[3]]);
    expect(standIn.requests.find((request) => request.query.after === ids[0])?.query).toEqual({ after: ids[0], limit: '2' });
  });

  it('records the presence the bot sets', async () => {
    client.user!.setPresence({ status: 'dnd', activities: [{ name: 'storage down', type: ActivityType.Custom, state: 'storage down' }] });
    const presence = await standIn.waitForPresence((candidate) => candidate.status === 'dnd');
    expect(presence.activities[0]).toMatchObject({ type: ActivityType.Custom, state: 'storage down' });
    expect(presence.source).toBe('presence-update');
  });

  it('rate limits, fails and refuses REST calls as Discord does', async () => {
    standIn.failNext({ status: 429, retryAfter: 0.2, method: 'POST', path: /^\/channels\/\d+\/messages$/ });
    await general.send('after a rate limit');
    expect(standIn.requestCount({ method: 'POST', status: 429 })).toBe(1);

    standIn.failNext({ status: 500, times: 4, method: 'POST' });
    await expect(general.send('never')).rejects.toBeInstanceOf(HTTPError);
    expect(standIn.requestCount({ method: 'POST', status: 500 })).toBe(4);

    standIn.unknownChannel(general.id);
    await expect(general.send('gone')).rejects.toMatchObject({ status: 404, code: 10003 });
    standIn.restoreChannel(general.id);
    standIn.missingAccess(general.id);
    const refused = await general.send('forbidden').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DiscordAPIError);
    expect(refused).toMatchObject({ status: 403, code: 50001 });
    standIn.restoreChannel(general.id);

    await expect(general.send('x'.repeat(2001))).rejects.toMatchObject({ status: 400, code: 50035 });
    // Discord counts code points: 2000 emoji (4000 UTF-16 units) fit, 2001 do not.
    await expect(general.send('🚀'.repeat(2000))).resolves.toBeDefined();
    await expect(general.send('🚀'.repeat(2001))).rejects.toMatchObject({ status: 400, code: 50035 });
    const unauthorised = await fetch(`${standIn.apiUrl}/v10/users/@me`, { headers: { authorization: 'Bot wrong' } });
    expect(unauthorised.status).toBe(401);
  });

  it('lets the bot resume after the connection drops, replaying what it missed', async () => {
    const resumed = nextEvent(client, Events.ShardResume);
    const received = nextEvent(client, Events.MessageCreate, (message) => message.content === 'while you were away');
    standIn.dropConnections();
    const missed = standIn.messageCreate({ channelId: general.id, author: standIn.users.bob, content: 'while you were away' });
    const [[message]] = await Promise.all([received, resumed]);
    expect(message.id).toBe(missed.id);
    expect(standIn.resumeCount).toBe(1);
    expect(standIn.identifyCount).toBe(1);
  });

  it('blanks message content for a bot without the Message Content intent', async () => {
    const limited = newClient(standIn, [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages]);
    try {
      const ready = nextEvent(limited, Events.ClientReady);
      await limited.login(standIn.token);
      await ready;
      const received = nextEvent(limited, Events.MessageCreate);
      standIn.messageCreate({ channelId: general.id, author: standIn.users.bob, content: 'secret words' });
      const [message] = await received;
      expect(message.content).toBe('');
    } finally {
      await limited.destroy();
    }
  });
});
