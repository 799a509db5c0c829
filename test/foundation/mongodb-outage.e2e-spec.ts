import request from 'supertest';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { startFerret, type ManagedServer } from '../support/servers';
import { notifyClient, notifyEnv } from '../notify/notify-support';

jest.setTimeout(240_000);

const MONGODB_TIMEOUT_MS = 1000;
/**
 * Generous against MONGODB_TIMEOUT_MS on a loaded machine (a retried operation may wait it twice), yet short of the
 * driver's default 30 s and the 5 s Herald used to wait per request: the point is that the wait is bounded.
 */
const ANSWER_BOUND_MS = 4 * MONGODB_TIMEOUT_MS;

describe('MongoDB outage', () => {
  let ferret: ManagedServer & { url: string };
  let discord: DiscordStandIn;
  let herald: HeraldUnderTest;
  let client: ReturnType<typeof notifyClient>;

  beforeAll(async () => {
    // A FerretDB of its own: this test takes it down.
    ferret = await startFerret();
    discord = await startDiscordStandIn();
    herald = await bootHerald(
      notifyEnv(discord, {
        MONGODB_URI: `${ferret.url}/outage`,
        MONGODB_TIMEOUT_MS: String(MONGODB_TIMEOUT_MS),
        NOTIFY_DEFAULT_CHANNEL_ID: discord.channels.general.id,
      }),
    );
    client = notifyClient(herald);
  });

  afterAll(async () => {
    await herald?.close();
    await discord?.stop();
    await ferret?.destroy();
  });

  it('answers requests that need it 503 with Retry-After, each within a bounded wait, and serves again once it is back', async () => {
    const before = await client.send({ message: 'before the outage' });
    await client.until(before, (view) => view.state === 'sent');

    await ferret.stop();
    const auth = { Authorization: `Bearer ${herald.token}` };
    const calls = [
      () => request(herald.url).post('/notify').set(auth).send({ message: 'during the outage' }),
      () => request(herald.url).get(`/notify/${before}`).set(auth),
      () => request(herald.url).patch(`/notify/${before}`).set(auth).send({ message: 'edited during the outage' }),
      () => request(herald.url).delete(`/notify/${before}`).set(auth),
      () => request(herald.url).post('/notify').set(auth).send({ message: 'during the outage, again' }),
    ];
    for (const call of calls) {
      const started = Date.now();
      const response = await call().timeout(ANSWER_BOUND_MS);
      expect({ status: response.status, body: response.body }).toEqual({
        status: 503,
        body: { statusCode: 503, error: 'Service Unavailable', dependency: 'mongodb', message: expect.stringContaining('MongoDB is unreachable') },
      });
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(ANSWER_BOUND_MS);
    }

    await ferret.start();
    const after = await eventually(
      async () => {
        const response = await client.post({ message: 'after the outage' });
        return response.status === 202 ? (response.body as { id: string }).id : undefined;
      },
      60_000,
      250,
    );
    await client.until(after, (view) => view.state === 'sent');
    // The 503s changed nothing: the first notification is still as it was sent.
    expect((await client.view(before)).state).toBe('sent');
    expect(discord.messages(discord.channels.general.id).map((stored) => stored.message.content)).toEqual(['before the outage', 'after the outage']);
  });
});
