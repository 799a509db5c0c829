import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { makeBucketPublic, publicBaseOf } from '../support/public-bucket';
import { startBotWorld, type BotWorld } from './discord-support';

jest.setTimeout(240_000);

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** With S3_PUBLIC_URL and a key template: every answer and callback that names an s3:// URN names its public URL. */
describe('Public URLs, names and links in what Herald answers', () => {
  const bucket = `herald-${randomBytes(5).toString('hex')}`;
  const base = publicBaseOf(bucket);
  let world: BotWorld;

  beforeAll(async () => {
    world = await startBotWorld({
      S3_BUCKET: bucket,
      S3_PUBLIC_URL: base,
      DISCORD_IMAGE_KEY_TEMPLATE: 'team-a/discord/{guildId}/{channelId}/{messageId}.png',
    });
    await makeBucketPublic(bucket);
  });

  afterAll(async () => {
    await world?.close();
  });

  async function fetchPng(url: string): Promise<Buffer> {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  }

  it('calls the backend back with the message link, channel and guild names, and the public URL under the key prefix', async () => {
    const { discord, backend } = world;
    const general = discord.channels.general;
    const sent = discord.messageCreate({ channelId: general.id, author: discord.users.alice, content: 'hello, archive' });
    const key = `team-a/discord/${discord.guild.id}/${general.id}/${sent.id}.png`;

    const created = await backend.waitFor({ messageId: sent.id, event: 'created' });
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
      urn: `s3://${bucket}/${key}`,
      url: `${base}/${key}`,
      createdAt: expect.any(String),
      editedAt: null,
      deletedAt: null,
    });
    expect(await fetchPng(created.url!)).toEqual(await world.storage().get(key));

    discord.messageDelete(general.id, sent.id);
    const deleted = await backend.waitFor({ messageId: sent.id, event: 'deleted' });
    expect(deleted).toMatchObject({ urn: `s3://${bucket}/${key}`, url: `${base}/${key}`, jumpUrl: created.jumpUrl, channelName: 'general' });
    expect(await world.storage().exists(key)).toBe(false);
  });

  it('answers the public URL with ?store=true renders and with metrics charts', async () => {
    const { herald } = world;
    const message = { author: { name: 'Herald' }, content: 'stored for everyone', timestamp: '2024-05-01T14:30:00Z' };
    const stored = await request(herald.url).post('/render/discord-message?store=true').set('authorization', `Bearer ${herald.token}`).send(message);
    expect(stored.status).toBe(200);
    expect(stored.body.urn).toBe(`s3://${bucket}/${stored.body.key}`);
    expect(stored.body.url).toBe(`${base}/${stored.body.key}`);
    expect((await fetchPng(stored.body.url)).subarray(0, 8)).toEqual(PNG_SIGNATURE);

    const chart = {
      title: 'Queue depth',
      kind: 'line',
      series: [
        {
          name: 'q',
          points: [
            [1736942400, 3],
            [1736942460, 5],
          ],
        },
      ],
    };
    const charts = await request(herald.url)
      .post('/metrics/image')
      .set('authorization', `Bearer ${herald.token}`)
      .send({ charts: [chart] });
    expect(charts.status).toBe(200);
    const [image] = charts.body.images as { urn: string; key: string; url: string }[];
    expect(image.url).toBe(`${base}/${image.key}`);
    expect((await fetchPng(image.url)).subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });
});
