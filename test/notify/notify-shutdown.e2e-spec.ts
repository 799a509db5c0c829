import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { baseTestEnv, eventually } from '../support/app';
import { startHeraldProcess, type HeraldProcess } from '../support/process';
import { freePort } from '../support/servers';
import { notifyEnv } from './notify-support';

jest.setTimeout(180_000);

describe('a POST /notify?wait=true still waiting when Herald stops', () => {
  let discord: DiscordStandIn;
  let herald: HeraldProcess | undefined;

  beforeAll(async () => {
    discord = await startDiscordStandIn();
  });

  afterAll(async () => {
    if (herald && herald.child.exitCode === null) herald.child.kill('SIGKILL');
    await discord?.stop();
  });

  it('is answered 202 queued (as without wait) before the connection closes, and the notification is sent after the restart', async () => {
    const channelId = discord.channels.general.id;
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // The wait (15 s) is longer than the whole drain (4 s): without an answer at shutdown the client would get none.
    const env: Record<string, string> = {
      ...baseTestEnv(),
      ...notifyEnv(discord, { NOTIFY_DEFAULT_CHANNEL_ID: channelId, NOTIFY_WAIT_TIMEOUT_MS: '15000' }),
      PORT: String(port),
      HOST: '127.0.0.1',
    };
    herald = startHeraldProcess(env);
    // Live, not ready: this Herald has no Chromium for the render features the S3 settings switch on.
    await eventually(async () => (await fetch(`${url}/health/live`).catch(() => ({ status: 0 }))).status === 200, 120_000, 250);

    discord.failNext({ status: 503, times: 100_000, method: 'POST', path: `/channels/${channelId}/messages` });
    const answer = fetch(`${url}/notify?wait=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.SYSTEM_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'waited for at shutdown' }),
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const signalled = Date.now();
    herald.child.kill('SIGTERM');

    const response = await answer;
    expect(Date.now() - signalled).toBeLessThan(2000);
    expect(response.status).toBe(202);
    const body = (await response.json()) as { id: string; state: string };
    expect(body).toEqual({ id: expect.any(String), state: 'queued' });
    expect(response.headers.get('location')).toBe(`/notify/${body.id}`);
    expect((await herald.exited).code).toBe(0);

    // Stored, so the next process sends it.
    discord.clearFailures();
    herald = startHeraldProcess(env);
    await eventually(() => discord.messages(channelId).some((stored) => stored.message.content === 'waited for at shutdown'), 120_000, 250);
    herald.child.kill('SIGTERM');
    expect((await herald.exited).code).toBe(0);
  });
});
