import request from 'supertest';
import { botEnv } from '../discord/discord-support';
import { BackendReceiver } from '../stand-ins/backend/backend-receiver';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { bootHerald, type HeraldUnderTest } from '../support/app';

jest.setTimeout(240_000);

describe('The token Herald sends the backend', () => {
  const backendToken = 'backend-only-token-0123456789abcdef';
  let discord: DiscordStandIn;
  let backend: BackendReceiver;
  let herald: HeraldUnderTest;

  beforeAll(async () => {
    discord = await startDiscordStandIn();
    // The backend stand-in answers 401 to any other bearer token, SYSTEM_TOKEN included.
    backend = await BackendReceiver.start(backendToken);
    herald = await bootHerald(botEnv(discord, backend, { BACKEND_TOKEN: backendToken, BROWSER_POOL_SIZE: '1' }));
    await discord.waitForIdentify(1);
  });

  afterAll(async () => {
    await herald?.close();
    await backend?.stop();
    await discord?.stop();
  });

  it('is BACKEND_TOKEN, not SYSTEM_TOKEN, and it opens nothing on Herald', async () => {
    expect(backendToken).not.toBe(herald.token);
    const sent = discord.messageCreate({ channelId: discord.channels.general.id, author: discord.users.alice, content: 'deploy finished' });
    await backend.waitFor({ messageId: sent.id, event: 'created' });
    expect(backend.accepted[0].headers.authorization).toBe(`Bearer ${backendToken}`);
    expect(backend.refused).toBe(0);

    const withBackendToken = await request(herald.url).post('/metrics/image').set('Authorization', `Bearer ${backendToken}`).send({});
    expect(withBackendToken.status).toBe(401);
  });
});
