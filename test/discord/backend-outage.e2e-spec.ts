import { eventually } from '../support/app';
import { startBotWorld, type BotWorld } from './discord-support';

jest.setTimeout(240_000);

describe('Backend callbacks while the backend is down', () => {
  let world: BotWorld;

  beforeAll(async () => {
    world = await startBotWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  it('delivers every callback once, in order per message, after the backend comes back', async () => {
    const { discord, backend } = world;
    const general = discord.channels.general;
    const authors = [discord.users.alice, discord.users.bob, discord.users.carol];
    await backend.down('refuse-connections');

    const sent = Array.from({ length: 20 }, (_, index) =>
      discord.messageCreate({ channelId: general.id, author: authors[index % authors.length], content: `status report ${index + 1}` }),
    );
    // Five of them are edited once their first image is stored, so `updated` queues up behind `created`.
    const edited = sent.slice(0, 5);
    for (const message of edited) {
      const key = `discord/${discord.guild.id}/${general.id}/${message.id}.png`;
      await eventually(() => world.storage().exists(key), 60_000);
      discord.messageUpdate(general.id, message.id, { content: `${message.content} (corrected)` });
    }
    await backend.up();
    await backend.waitUntil(() => backend.accepted.length >= 25, '25 callbacks', 120_000);
    // Give stray duplicates a chance to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 2000));

    for (const message of sent) {
      const events = backend.callbacks({ messageId: message.id }).map((callback) => callback.event);
      expect({ messageId: message.id, events }).toEqual({
        messageId: message.id,
        events: edited.includes(message) ? ['created', 'updated'] : ['created'],
      });
    }
    const keys = backend.accepted.map((received) => received.body.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(backend.accepted.every((received) => received.headers['idempotency-key'] === received.body.idempotencyKey)).toBe(true);
  });
});
