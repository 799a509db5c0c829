import request from 'supertest';
import { metric } from '../support/metrics';
import { startBotWorld, type BotWorld } from './discord-support';

jest.setTimeout(180_000);

const BURST = 12;

/**
 * A burst of messages with one outbox slot: the backend hears of the first images while the rest are still being
 * drawn, instead of after the whole burst (each message's callback is a job of another queue, and a freed slot goes
 * to each queue in turn).
 */
describe('A burst of messages', () => {
  let world: BotWorld;

  beforeAll(async () => {
    world = await startBotWorld({ OUTBOX_CONCURRENCY: '1' });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('tells the backend of the first images before the burst is drawn, and of every image once', async () => {
    const { discord, backend } = world;
    const general = discord.channels.general;
    const sent = Array.from({ length: BURST }, (_, index) =>
      discord.messageCreate({ channelId: general.id, author: discord.users.alice, content: `burst message ${index + 1}` }),
    );
    const keyOf = (id: string) => `discord/${discord.guild.id}/${general.id}/${id}.png`;

    await backend.waitFor({ event: 'created' });
    const drawn = (await Promise.all(sent.map(({ id }) => world.storage().exists(keyOf(id))))).filter(Boolean).length;
    expect(drawn).toBeLessThanOrEqual(BURST / 2);

    for (const { id } of sent) await backend.waitFor({ messageId: id, event: 'created' });
    expect(backend.callbacks({ event: 'created' })).toHaveLength(BURST);
  });

  it("keeps none of the bot's images in the render cache: each is drawn once and stored, so memory stays for the HTTP API's", async () => {
    const { discord, backend } = world;
    const before = await metric(world.herald.url, 'herald_render_cache_bytes');
    await world.post({ author: discord.users.alice, content: 'drawn once, kept in S3 only' });
    expect(backend.callbacks({ event: 'created' }).length).toBeGreaterThan(BURST);
    expect(await metric(world.herald.url, 'herald_render_cache_bytes')).toBe(before);
    const rendered = await request(world.herald.url)
      .post('/render/discord-message')
      .set('authorization', `Bearer ${world.herald.token}`)
      .send({ author: { name: 'Alice' }, content: 'an HTTP render is kept', timestamp: '2026-11-30T06:00:00Z' });
    expect(rendered.status).toBe(200);
    expect(await metric(world.herald.url, 'herald_render_cache_bytes')).toBeGreaterThan(before);
  });
});
