import request from 'supertest';
import { startBotWorld, type BotWorld } from './discord-support';

jest.setTimeout(240_000);

/**
 * Issue 16 item 8: a gateway event that Herald cannot read (discord.js 14.28 throws on a role without the `colors`
 * object) was dropped with one log line. It is now recorded before anything reads it; the failure is retried, parked
 * with its reason in GET /outbox, and drawn once the role is readable and the job is sent again.
 */
describe('A gateway event that cannot be read', () => {
  let world: BotWorld;

  beforeAll(async () => {
    world = await startBotWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  const auth = () => ({ authorization: `Bearer ${world.herald.token}` });

  it('is parked with its reason in GET /outbox, not lost, and rendered once retried after the role is fixed', async () => {
    const { discord, backend, herald } = world;
    const general = discord.channels.general;
    const legacy = discord.roleCreate({ name: 'legacy', colour: 0x11aa22, members: [discord.users.carol], withoutColors: true });
    const sent = discord.messageCreate({ channelId: general.id, author: discord.users.carol, content: 'written with a role from before gradients' });

    const parked = await world.parkedJob('discord-images', `discord:message:${sent.id}`, 90_000);
    expect(parked.attempts).toBeGreaterThanOrEqual(3);
    expect(parked.lastError).toContain(`could not read message ${sent.id} from its gateway event`);
    expect(parked.lastError).toContain('primaryColor');
    expect(backend.callbacks({ messageId: sent.id })).toEqual([]);
    const key = `discord/${discord.guild.id}/${general.id}/${sent.id}.png`;
    expect(await world.storage().exists(key)).toBe(false);

    discord.roleRestore(legacy.id);
    // The bot has the restored role once a message by Carol renders again.
    const probe = await world.post({ author: discord.users.carol, content: 'the role has its colours again' });
    expect(probe.urn).toContain(probe.id);

    const retried = await request(herald.url).post(`/outbox/${parked.id}/retry`).set(auth());
    expect(retried.status).toBe(200);
    const created = await backend.waitFor({ messageId: sent.id, event: 'created' });
    expect(created.urn).toBe(`s3://${herald.config.s3.bucket}/${key}`);
    expect(await world.storage().exists(key)).toBe(true);
    expect(backend.callbacks({ messageId: sent.id }).map((callback) => callback.event)).toEqual(['created']);
  });
});
