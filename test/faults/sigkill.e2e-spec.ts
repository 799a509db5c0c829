import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { droneBuildEvent, newBuildScenario, type BuildScenario } from '../stand-ins/drone/drone-payloads';
import { droneDelivery, postDroneDelivery } from '../stand-ins/drone/drone-signer';
import { eventually } from '../support/app';
import { startHeraldProcess, type HeraldProcess } from '../support/process';
import { freePort, requireEnv, testMongoUri } from '../support/servers';

jest.setTimeout(240_000);

const SECRET = 'drone-shared-secret-for-tests';

/**
 * Herald killed with SIGKILL in the middle of its work (no shutdown hook runs, leases are left held) and started again
 * on the same database: everything it had accepted is still delivered, once, in order per channel.
 */
describe('SIGKILL mid-flow, then a new process', () => {
  let discord: DiscordStandIn;
  let running: HeraldProcess | undefined;
  let port: number;
  const token = requireEnv('TEST_SYSTEM_TOKEN');
  const mongoUri = testMongoUri();

  beforeAll(async () => {
    discord = await startDiscordStandIn();
    port = await freePort();
  });

  afterAll(async () => {
    running?.child.kill('SIGKILL');
    await running?.exited;
    await discord?.stop();
  });

  function start(): HeraldProcess {
    return startHeraldProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      HERALD_ROLES: 'api',
      MONGODB_URI: mongoUri,
      SYSTEM_TOKEN: token,
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DRONE_WEBHOOK_SECRET: SECRET,
      DRONE_CHANNEL_ID: discord.channels.builds.id,
      OUTBOX_BACKOFF_BASE_MS: '100',
      OUTBOX_BACKOFF_MAX_MS: '1000',
      OUTBOX_POLL_INTERVAL_MS: '200',
    });
  }

  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  async function ready(): Promise<void> {
    await eventually(async () => (await fetch(url('/health/ready'))).status === 200, 60_000, 200);
  }

  async function notify(channelId: string, message: string): Promise<void> {
    const response = await fetch(url('/notify'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channelId, message }),
    });
    if (response.status !== 202) throw new Error(`POST /notify answered ${response.status}: ${await response.text()}`);
  }

  function texts(channelId: string, prefix: string): string[] {
    return discord
      .messages(channelId)
      .map((stored) => stored.message.content)
      .filter((content) => content.startsWith(prefix));
  }

  function buildMessages(build: BuildScenario) {
    return discord.messages(discord.channels.builds.id).filter((stored) => stored.message.embeds[0]?.title?.includes(`${build.slug} #`));
  }

  it('delivers every accepted notification and build state after the restart, each once', async () => {
    const channels = [discord.channels.general.id, discord.channels.announcements.id];
    running = start();
    await ready();

    // Discord fails every post for now: what Herald accepts stays queued (and mid-retry) when it is killed.
    discord.failNext({ status: 503, times: 1_000_000, method: 'POST' });
    discord.failNext({ status: 503, times: 1_000_000, method: 'PATCH' });
    const expected = new Map(channels.map((channelId) => [channelId, [] as string[]]));
    for (let index = 0; index < 20; index++) {
      const channelId = channels[index % 2];
      const message = `killed ${index}`;
      await notify(channelId, message);
      expected.get(channelId)!.push(message);
    }
    const builds = [newBuildScenario(), newBuildScenario()];
    for (const build of builds) {
      const accepted = await postDroneDelivery(
        url('/drone/webhook'),
        droneDelivery(droneBuildEvent(build, { status: 'success' }), { secret: SECRET }),
      );
      // Stored before it is answered: 202 "queued" while Discord fails (the job retries in the background).
      expect(accepted).toMatchObject({ status: 202, body: { outcome: 'queued' } });
    }

    running.child.kill('SIGKILL');
    expect((await running.exited).signal).toBe('SIGKILL');
    discord.clearFailures();

    running = start();
    await ready();
    for (const channelId of channels) {
      const want = expected.get(channelId)!;
      const seen = await eventually(
        () => {
          const got = texts(channelId, 'killed ');
          return got.length >= want.length ? got : undefined;
        },
        120_000,
        200,
      );
      expect(seen).toEqual(want);
    }
    for (const build of builds) {
      const [only, ...more] = await eventually(
        () => {
          const messages = buildMessages(build);
          return messages.length && messages[0].message.embeds[0]?.title?.startsWith('✅') ? messages : undefined;
        },
        120_000,
        200,
      );
      expect(more).toEqual([]);
      expect(only.message.embeds[0]?.title).toBe(`✅ ${build.slug} #${build.buildNumber}`);
    }
  });
});
