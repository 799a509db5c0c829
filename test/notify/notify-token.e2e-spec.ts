import request from 'supertest';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { notifyClient, notifyEnv } from './notify-support';

jest.setTimeout(120_000);

const REFUSED =
  'Discord refused DISCORD_TOKEN: nothing can be posted until it is the bot token (from the Discord Developer Portal ' +
  '(your application → Bot → Reset Token)) and Herald is restarted with it';

describe('a Notify-only process (HERALD_ROLES=api) whose DISCORD_TOKEN Discord refuses', () => {
  let discord: DiscordStandIn;
  let herald: HeraldUnderTest;

  beforeAll(async () => {
    discord = await startDiscordStandIn();
    herald = await bootHerald(notifyEnv(discord, { DISCORD_TOKEN: 'not-the-bot-token', NOTIFY_DEFAULT_CHANNEL_ID: discord.channels.general.id }));
  });

  afterAll(async () => {
    await herald?.close();
    await discord?.stop();
  });

  it('shows the refused token in /health/ready (discord degraded) and in every notification, naming where to reset it', async () => {
    const entry = await eventually(
      async () => {
        const body = (await request(herald.url).get('/health/ready')).body as { info?: Record<string, { degraded?: boolean; message?: string }> };
        return body.info?.discord?.degraded ? body.info.discord : undefined;
      },
      30_000,
      200,
    );
    expect(entry.message).toBe(REFUSED);

    // The start-up read got the 401; @discordjs/rest has dropped the token, so each send fails before reaching Discord.
    const client = notifyClient(herald);
    const id = await client.send({ message: 'never sent with a refused token' });
    const view = await client.until(id, (notification) => notification.lastError !== null);
    expect(view.state).toBe('queued');
    expect(view.lastError?.message).toBe(REFUSED);
  });
});
