import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import request from 'supertest';
import { Notification } from '../../src/notify/notification.schema';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { bootHerald, type HeraldUnderTest } from '../support/app';
import { notifyClient, notifyEnv } from './notify-support';

jest.setTimeout(120_000);

const text = (length: number) => 'x'.repeat(length);

/** One body per Discord limit, each breaking only that limit, and the field the 400 must name. */
const LIMIT_VIOLATIONS: [string, object][] = [
  ['content', { content: text(2001) }],
  ['message', { message: text(2001) }],
  ['embeds', { embeds: Array.from({ length: 11 }, () => ({ title: 't' })) }],
  ['embeds[0].title', { embeds: [{ title: text(257) }] }],
  ['embeds[1].description', { embeds: [{ title: 't' }, { description: text(4097) }] }],
  ['embeds[0].fields', { embeds: [{ fields: Array.from({ length: 26 }, () => ({ name: 'n', value: 'v' })) }] }],
  ['embeds[0].fields[0].name', { embeds: [{ fields: [{ name: text(257), value: 'v' }] }] }],
  ['embeds[0].fields[0].value', { embeds: [{ fields: [{ name: 'n', value: text(1025) }] }] }],
  ['embeds[0].footer.text', { embeds: [{ footer: { text: text(2049) } }] }],
  ['embeds[0].author.name', { embeds: [{ author: { name: text(257) } }] }],
  ['embeds', { embeds: [{ description: text(4096) }, { description: text(1905) }] }],
];

describe('the notify API refuses what Discord would refuse, and strangers', () => {
  let discord: DiscordStandIn;
  let herald: HeraldUnderTest;
  let client: ReturnType<typeof notifyClient>;
  let notifications: Model<Notification>;
  let channelId: string;

  beforeAll(async () => {
    discord = await startDiscordStandIn();
    channelId = discord.channels.general.id;
    // No NOTIFY_DEFAULT_CHANNEL_ID here: a request must name its channel.
    herald = await bootHerald(notifyEnv(discord));
    client = notifyClient(herald);
    notifications = herald.app.get<Model<Notification>>(getModelToken(Notification.name));
  });

  afterAll(async () => {
    await herald?.close();
    await discord?.stop();
  });

  it('answers 401 without the system token or with a wrong one, and stores nothing', async () => {
    const body = { message: 'hello', channelId };
    const id = '665f1c2e8b3e4a0012345678';
    const calls = [
      () => request(herald.url).post('/notify').send(body),
      () => request(herald.url).get(`/notify/${id}`),
      () => request(herald.url).patch(`/notify/${id}`).send(body),
      () => request(herald.url).delete(`/notify/${id}`),
    ];
    for (const call of calls) {
      expect((await call()).status).toBe(401);
      expect((await call().set('Authorization', 'Bearer not-the-system-token')).status).toBe(401);
      expect((await call().set('Authorization', `Basic ${herald.token}`)).status).toBe(401);
    }
    expect(await notifications.countDocuments()).toBe(0);
  });

  it.each(LIMIT_VIOLATIONS)('answers 400 naming %s and stores nothing', async (field, body) => {
    const response = await client.post({ channelId, ...body });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request', errors: [{ field, messages: [expect.any(String)] }] });
    expect(response.body.errors).toHaveLength(1);
    expect(await notifications.countDocuments()).toBe(0);
  });

  it('answers 400 naming channelId when neither the request nor the configuration names a channel', async () => {
    const response = await client.post({ message: 'where to?' });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: 'channelId', messages: [expect.stringContaining('NOTIFY_DEFAULT_CHANNEL_ID')] }]);
    expect(await notifications.countDocuments()).toBe(0);
  });

  it('answers 400 naming the field for an edit that breaks a limit, and leaves the notification as it was', async () => {
    const id = await client.send({ message: 'to be edited', channelId });
    const before = await notifications.findById(id).lean();
    const response = await client.patch(id, { embeds: [{ title: text(257) }] });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: 'embeds[0].title', messages: [expect.any(String)] }]);
    const after = await notifications.findById(id).lean();
    expect(after?.revision).toBe(before?.revision);
    expect(after?.message).toEqual({ content: 'to be edited' });
  });

  it('answers 400 for an Idempotency-Key that is not a visible ASCII token', async () => {
    const before = await notifications.countDocuments();
    const response = await client.post({ message: 'x', channelId }, { 'Idempotency-Key': text(256) });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([{ field: 'Idempotency-Key', messages: [expect.any(String)] }]);
    expect(await notifications.countDocuments()).toBe(before);
  });

  it('documents every field, limit and answer in Swagger', async () => {
    const document = (await request(herald.url).get('/docs-json')).body;
    const post = document.paths['/notify'].post;
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['202', '400', '401']));
    expect(post.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]));
    expect(Object.keys(document.paths['/notify/{id}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    const schemas = document.components.schemas;
    expect(schemas.CreateNotificationDto.properties.content.maxLength).toBe(2000);
    expect(schemas.CreateNotificationDto.properties.embeds.maxItems).toBe(10);
    expect(schemas.EmbedDto.properties.title.maxLength).toBe(256);
    expect(schemas.EmbedDto.properties.fields.maxItems).toBe(25);
    expect(schemas.NotificationViewDto.properties.state.enum).toEqual(['queued', 'sent', 'failed', 'deleted']);
  });
});
