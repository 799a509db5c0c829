import { loadConfig } from '../config/config';
import type { APIMessage, GatewayDispatchPayload, Message } from 'discord.js';
import { solidPng, type UserMessage } from '../../test/stand-ins/discord';
import { botClientPerSuite, nextMessage } from '../../test/support/discord-client';
import { DEFAULT_IMAGE_KEY_TEMPLATE } from '../config/config';
import { DiscordGateway } from './discord-gateway';
import { imageKey, shownHash, snapshotOf, type MessageSnapshot } from './message-snapshot';

jest.setTimeout(60_000);

// The mapping is checked on real discord.js messages, built by a real client from the Discord stand-in's payloads.
describe('snapshotOf', () => {
  const bot = botClientPerSuite();
  let gateway: DiscordGateway;

  beforeAll(() => {
    gateway = new DiscordGateway(bot.client, loadConfig({ SYSTEM_TOKEN: 'a-long-enough-system-token', DISCORD_TOKEN: bot.standIn.token }));
  });

  async function snapshotOfPosted(message: Omit<UserMessage, 'channelId'>): Promise<MessageSnapshot> {
    const received = nextMessage(bot.client, (candidate) => candidate.author.id === message.author.id);
    bot.standIn.messageCreate({ channelId: bot.standIn.channels.general.id, ...message });
    const posted = await received;
    if (!posted.inGuild()) throw new Error('expected a guild message');
    return snapshotOf(await gateway.observe(posted));
  }

  it('reads a message rebuilt from its recorded gateway payload as discord.js shows the message itself', async () => {
    const recorded: GatewayDispatchPayload[] = [];
    const stop = gateway.onDispatch((packet) => recorded.push(JSON.parse(JSON.stringify(packet)) as GatewayDispatchPayload));
    const answer = await snapshotOfPosted({ author: bot.standIn.users.carol, content: 'rebuilt from the record' });
    const edited = new Promise<Message>((resolve) => bot.client.once('messageUpdate', (_old, message) => resolve(message as Message)));
    bot.standIn.messageUpdate(bot.standIn.channels.general.id, answer.messageId, { content: 'rebuilt after an edit', editedAt: new Date() });
    const live = await edited;
    stop();
    const payloads = recorded.filter((packet) => packet.t === 'MESSAGE_CREATE' || packet.t === 'MESSAGE_UPDATE');
    expect(payloads.map((packet) => packet.t)).toEqual(['MESSAGE_CREATE', 'MESSAGE_UPDATE']);
    const [created, updated] = await Promise.all(payloads.map((packet) => gateway.messageFrom(packet.d as APIMessage)));
    expect(snapshotOf(await gateway.observe(created as Message<true>))).toEqual(answer);
    if (!live.inGuild()) throw new Error('expected a guild message');
    expect(snapshotOf(await gateway.observe(updated as Message<true>))).toEqual(snapshotOf(await gateway.observe(live)));
  });

  it('shows the author as the guild does: nickname, top role colour, avatar from the CDN', async () => {
    const snapshot = await snapshotOfPosted({ author: bot.standIn.users.alice, content: 'hello' });
    expect(snapshot.input.author).toEqual({
      name: 'Alice',
      color: 0xe91e63,
      avatarUrl: `${bot.standIn.cdnUrl}/avatars/${bot.standIn.users.alice.id}/${bot.standIn.users.alice.avatar}.png?size=128`,
      id: bot.standIn.users.alice.id,
      discriminator: '0',
      bot: false,
      verified: false,
    });
    expect(snapshot).toMatchObject({
      guildId: bot.standIn.guild.id,
      channelId: bot.standIn.channels.general.id,
      authorId: bot.standIn.users.alice.id,
      guildName: bot.standIn.guild.name,
      channelName: bot.standIn.channels.general.name,
      jumpUrl: `https://discord.com/channels/${bot.standIn.guild.id}/${bot.standIn.channels.general.id}/${snapshot.messageId}`,
      editedAt: null,
    });
  });

  it('falls back to the global name, no colour and the default avatar', async () => {
    const snapshot = await snapshotOfPosted({ author: bot.standIn.users.bob, content: 'hi' });
    expect(snapshot.input.author).toMatchObject({ name: 'Bob', bot: false });
    expect(snapshot.input.author.color).toBeNull();
    // No picture of their own: the renderer draws Discord's default avatar for the id from local assets.
    expect(snapshot.input.author.avatarUrl).toBeNull();
    expect(snapshot.input.author).toMatchObject({ id: bot.standIn.users.bob.id });
  });

  it('resolves mentions, custom emoji, attachments and embeds', async () => {
    const { bob } = bot.standIn.users;
    const { moderator } = bot.standIn.roles;
    const { builds } = bot.standIn.channels;
    const party = bot.standIn.emojis.party;
    const snapshot = await snapshotOfPosted({
      author: bot.standIn.users.carol,
      content: `<@${bob.id}> <@&${moderator.id}> see <#${builds.id}> <:${party.name}:${party.id}> <a:dance:123456789012345678>`,
      attachments: [
        { filename: 'SPOILER_plot.png', data: solidPng(30, 20, [1, 2, 3]) },
        { filename: 'notes.txt', data: Buffer.from('notes') },
      ],
      embeds: [{ title: 'Report', color: 0x123456, fields: [{ name: 'a', value: 'b', inline: true }] }],
    });
    expect(snapshot.input.mentions).toEqual({
      users: [{ id: bob.id, name: 'Bob' }],
      roles: [{ id: moderator.id, name: 'Moderator', color: 0xe91e63 }],
      channels: [{ id: builds.id, name: 'builds' }],
    });
    expect(snapshot.input.emojis).toEqual([
      { id: party.id, url: `${bot.standIn.cdnUrl}/emojis/${party.id}.png?size=64` },
      { id: '123456789012345678', url: `${bot.standIn.cdnUrl}/emojis/123456789012345678.gif?size=64` },
    ]);
    expect(snapshot.input.attachments).toEqual([
      expect.objectContaining({ filename: 'SPOILER_plot.png', width: 30, height: 20, contentType: 'image/png', spoiler: true }),
      expect.objectContaining({ filename: 'notes.txt', size: 5, spoiler: false }),
    ]);
    // Only what the template draws; Discord's `type: 'rich'` (drawn like no type) stays out of the hash.
    expect(snapshot.input.embeds).toEqual([{ title: 'Report', color: 0x123456, fields: [{ name: 'a', value: 'b', inline: true }] }]);
  });

  it('shows the message a reply answers, or that it was deleted', async () => {
    const question = bot.standIn.seedMessage({ channelId: bot.standIn.channels.general.id, author: bot.standIn.users.alice, content: 'ready?' });
    const answer = await snapshotOfPosted({ author: bot.standIn.users.bob, content: 'yes', replyTo: question.id });
    expect(answer.input.reply).toEqual({
      author: expect.objectContaining({ name: 'Alice', color: 0xe91e63 }),
      content: 'ready?',
      hasAttachments: false,
      mentionsAuthor: true,
    });

    const gone = bot.standIn.seedMessage({ channelId: bot.standIn.channels.general.id, author: bot.standIn.users.alice, content: 'soon gone' });
    const lateAnswer = bot.standIn.seedMessage({
      channelId: bot.standIn.channels.general.id,
      author: bot.standIn.users.carol,
      content: 'ok',
      replyTo: gone.id,
    });
    bot.standIn.messageDelete(bot.standIn.channels.general.id, gone.id);
    const fetched = await (
      bot.client.channels.cache.get(bot.standIn.channels.general.id) as { messages: { fetch(id: string): Promise<Message> } }
    ).messages.fetch(lateAnswer.id);
    if (!fetched.inGuild()) throw new Error('expected a guild message');
    expect(snapshotOf(await gateway.observe(fetched)).input.reply).toEqual({ author: null, content: null });
  });

  it('hashes what is shown, not when it was edited', async () => {
    const snapshot = await snapshotOfPosted({ author: bot.standIn.users.alice, content: 'same words' });
    const editedLater = { ...snapshot.input, editedTimestamp: '2030-01-01T00:00:00.000Z' };
    expect(shownHash(editedLater)).toBe(snapshot.shownHash);
    expect(shownHash({ ...snapshot.input, content: 'other words' })).not.toBe(snapshot.shownHash);
  });

  it('keys images by the configured template: guild, channel and message by default', () => {
    const ids = { guildId: '1', channelId: '2', messageId: '3', channelName: 'dev/ops chat' };
    expect(imageKey(DEFAULT_IMAGE_KEY_TEMPLATE, ids)).toBe('discord/1/2/3.png');
    expect(imageKey('files/{guildId}-{channelName}/{messageId}', ids)).toBe('files/1-dev-ops chat/3');
  });
});
