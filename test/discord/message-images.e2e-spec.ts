import { join } from 'node:path';
import { solidPng } from '../stand-ins/discord';
import { expectMatchesGolden } from '../support/golden';
import { startBotWorld, type BotWorld } from './discord-support';

jest.setTimeout(180_000);

const GOLDENS = join(__dirname, 'goldens');
const SENT_AT = new Date('2024-05-01T14:30:00Z');

describe('Discord messages become images in S3, and the backend hears of each', () => {
  let world: BotWorld;

  beforeAll(async () => {
    world = await startBotWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  function keyOf(messageId: string): string {
    const { discord } = world;
    return `discord/${discord.guild.id}/${discord.channels.general.id}/${messageId}.png`;
  }

  it('renders a new message under its guild/channel/message key and calls the backend back with its URN', async () => {
    const { discord, backend } = world;
    const general = discord.channels.general;
    const party = discord.emojis.party;
    // The reply line names what the answered message mentions, as the client does (it read "@unknown-user" and "#unknown").
    const question = discord.seedMessage({
      channelId: general.id,
      author: discord.users.bob,
      content: `Is the release ready, <@${discord.users.carol.id}>? Ask <@&${discord.roles.moderator.id}> in <#${discord.channels.announcements.id}> <:${party.name}:${party.id}>`,
      timestamp: new Date('2024-05-01T14:28:00Z'),
    });
    const sent = discord.messageCreate({
      channelId: general.id,
      author: discord.users.alice,
      content: `Yes <@${discord.users.bob.id}>, the **release** is _ready_ <:${party.name}:${party.id}>`,
      replyTo: question.id,
      attachments: [{ filename: 'chart.png', data: solidPng(240, 120, [46, 204, 113]) }],
      embeds: [
        { title: 'Release 2.4.0', description: 'All checks passed.', color: 0x2ecc71, fields: [{ name: 'Build', value: '#812', inline: true }] },
      ],
      timestamp: SENT_AT,
    });

    const created = await backend.waitFor({ messageId: sent.id, event: 'created' });
    const key = keyOf(sent.id);
    expect(created).toEqual({
      event: 'created',
      idempotencyKey: expect.stringContaining(sent.id),
      guildId: discord.guild.id,
      channelId: general.id,
      messageId: sent.id,
      authorId: discord.users.alice.id,
      guildName: discord.guild.name,
      channelName: 'general',
      jumpUrl: `https://discord.com/channels/${discord.guild.id}/${general.id}/${sent.id}`,
      urn: `s3://${world.herald.config.s3.bucket}/${key}`,
      createdAt: SENT_AT.toISOString(),
      editedAt: null,
      deletedAt: null,
    });
    const png = await world.storage().get(key);
    expect(png).not.toBeNull();
    expectMatchesGolden(GOLDENS, 'reply-with-mention-emoji-attachment-embed', png!);
  });

  it('replaces the image on an edit and says updated, and renders nothing for an edit that changes nothing shown', async () => {
    const { discord, backend } = world;
    const general = discord.channels.general;
    const { id } = await world.post({ author: discord.users.carol, content: 'Deploying to staging', timestamp: SENT_AT });
    const before = await world.storage().get(keyOf(id));

    // Same content again (Discord sends such updates for pins, flags, re-sent embeds), then a real edit.
    discord.messageUpdate(general.id, id, { editedAt: new Date('2024-05-01T14:31:00Z') });
    discord.messageUpdate(general.id, id, { content: 'Deploying to production', editedAt: new Date('2024-05-01T14:32:00Z') });

    const updated = await backend.waitFor({ messageId: id, event: 'updated' });
    expect(updated).toMatchObject({ urn: `s3://${world.herald.config.s3.bucket}/${keyOf(id)}`, editedAt: '2024-05-01T14:32:00.000Z' });
    // Callbacks of one message arrive in order: had the first update been rendered, its `updated` came first.
    expect(backend.callbacks({ messageId: id }).map((callback) => callback.event)).toEqual(['created', 'updated']);
    const after = await world.storage().get(keyOf(id));
    expect(after!.equals(before!)).toBe(false);
    expectMatchesGolden(GOLDENS, 'edited', after!);
  });

  it('deletes the image when the message is deleted and says deleted', async () => {
    const { discord, backend } = world;
    const { id, urn } = await world.post({ author: discord.users.bob, content: 'oops, wrong channel' });
    expect(await world.storage().exists(keyOf(id))).toBe(true);

    discord.messageDelete(discord.channels.general.id, id);

    const deleted = await backend.waitFor({ messageId: id, event: 'deleted' });
    expect(deleted).toMatchObject({ urn, deletedAt: expect.any(String) });
    expect(await world.storage().exists(keyOf(id))).toBe(false);
  });

  it('deletes the image of a message sent before a restart, from what MongoDB remembers', async () => {
    const { discord, backend } = world;
    const { id } = await world.post({ author: discord.users.alice, content: 'sent before the restart' });
    const { id: other } = await world.post({ author: discord.users.bob, content: 'also before the restart' });

    await world.restart();
    discord.messageDelete(discord.channels.general.id, id);
    discord.messageDeleteBulk(discord.channels.general.id, [other]);

    await backend.waitFor({ messageId: id, event: 'deleted' });
    await backend.waitFor({ messageId: other, event: 'deleted' });
    expect(await world.storage().exists(keyOf(id))).toBe(false);
    expect(await world.storage().exists(keyOf(other))).toBe(false);
  });
});
