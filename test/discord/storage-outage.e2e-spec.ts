import { eventually } from '../support/app';
import { startS3 } from '../support/servers';
import { startBotWorld, type BotWorld } from './discord-support';

jest.setTimeout(240_000);

describe('Object storage outage', () => {
  let s3: Awaited<ReturnType<typeof startS3>>;
  let world: BotWorld;

  beforeAll(async () => {
    // An S3 server of its own: this test takes it down.
    s3 = await startS3();
    world = await startBotWorld({
      S3_ENDPOINT: s3.url,
      AWS_ACCESS_KEY_ID: s3.accessKey,
      AWS_SECRET_ACCESS_KEY: s3.secretKey,
    });
  });

  afterAll(async () => {
    await world?.close();
    await s3?.destroy();
  });

  /** The probe's status and the checks it names degraded (a shared dependency never makes it 503). */
  async function readiness(): Promise<{ status: number; degraded: string[] }> {
    const response = await fetch(`${world.herald.url}/health/ready`);
    const body = (await response.json()) as { info?: Record<string, { degraded?: boolean }> };
    return { status: response.status, degraded: Object.keys(body.info ?? {}).filter((name) => body.info?.[name]?.degraded) };
  }

  it('shows idle and stays ready, naming storage degraded, while the S3 server is down, then renders what arrived meanwhile once it is back', async () => {
    const { discord, backend } = world;
    const general = discord.channels.general;
    await discord.waitForPresence((presence) => presence.status === 'online', { timeoutMs: 60_000 });

    await s3.stop();
    await eventually(async () => {
      const { status, degraded } = await readiness();
      return status === 200 && degraded.includes('storage');
    }, 60_000);
    const down = await discord.waitForPresence(
      (presence) => presence.status === 'idle' && (presence.activities[0]?.state ?? '').includes('storage'),
      {
        timeoutMs: 60_000,
      },
    );

    const sent = [discord.users.alice, discord.users.bob, discord.users.carol].map((author, index) =>
      discord.messageCreate({ channelId: general.id, author, content: `written while storage was down (${index + 1})` }),
    );

    await s3.start();
    await discord.waitForPresence((presence) => presence.status === 'online' && presence.receivedAt > down.receivedAt, {
      timeoutMs: 60_000,
    });
    await eventually(async () => (await readiness()).degraded.length === 0, 60_000);
    for (const message of sent) {
      const created = await backend.waitFor({ messageId: message.id, event: 'created' }, 90_000);
      const key = `discord/${discord.guild.id}/${general.id}/${message.id}.png`;
      expect(created.urn).toBe(`s3://${world.herald.config.s3.bucket}/${key}`);
      expect(await world.storage().exists(key)).toBe(true);
    }
  });
});
