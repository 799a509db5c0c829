import { GatewayIntentBits } from 'discord.js';
import { connect, type Socket } from 'node:net';
import { METRICS_IMAGE_EXAMPLE } from '../../src/metrics/metrics-image.dto';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { baseTestEnv, eventually } from '../support/app';
import { startHeraldProcess, type HeraldProcess } from '../support/herald-process';
import { chromiumChildrenOf } from '../support/process';
import { freePort, requireEnv } from '../support/servers';
import { VkStandIn } from '../stand-ins/vk/vk-stand-in';

jest.setTimeout(300_000);

/** Collects what a raw HTTP connection receives, so a test can send a request in pieces. */
function rawConnection(port: number): Promise<{ socket: Socket; received: () => string }> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, received: () => received }));
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.once('error', reject);
  });
}

/** Readiness's entry for the Discord gateway once `matches` holds for it (a degraded entry carries the reason). */
function discordReadiness(port: number, matches: (entry: { degraded?: boolean; message?: string }) => boolean) {
  return eventually(
    async () => {
      const body = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as {
        info?: Record<string, { degraded?: boolean; message?: string }>;
      };
      const entry = body.info?.discord;
      return entry && matches(entry) ? entry : undefined;
    },
    90_000,
    250,
  );
}

describe('starting Herald as an operator would', () => {
  it('names an unreachable MongoDB on one JSON line per attempt and exits non-zero within MONGODB_STARTUP_TIMEOUT_MS', async () => {
    const deadPort = await freePort();
    const herald = startHeraldProcess({
      ...baseTestEnv(),
      MONGODB_URI: `mongodb://127.0.0.1:${deadPort}/herald`,
      MONGODB_STARTUP_TIMEOUT_MS: '15000',
      PORT: String(await freePort()),
      LOG_LEVEL: 'info',
    });
    const exited = await herald.exited;
    expect(exited.code).not.toBe(0);
    expect(exited.code).not.toBeNull();

    const lines = herald.lines(); // throws on a line that is not JSON
    const attempts = lines.filter((line) => String(line.msg).includes(`MongoDB at 127.0.0.1:${deadPort} is unreachable (attempt`));
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.map((line) => line.attempt)).toEqual(attempts.map((_, index) => index + 1));
    const fatal = lines[lines.length - 1];
    expect(fatal.level).toBe(60);
    expect(String(fatal.msg)).toContain(`MongoDB at 127.0.0.1:${deadPort} is unreachable`);
    expect(String(fatal.msg)).toContain('MONGODB_STARTUP_TIMEOUT_MS=15000');
  });

  it('launches no Chromium in a process that only polls VK', async () => {
    const port = await freePort();
    const herald = startHeraldProcess({ ...baseTestEnv(), HERALD_ROLES: 'vk', PORT: String(port), HOST: '127.0.0.1' });
    try {
      // The browser warms its pages before readiness: give a loaded CI host room.
      await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200, 180_000, 250);
      expect(chromiumChildrenOf(herald.child.pid!)).toEqual([]);
    } finally {
      expect((await herald.stop()).code).toBe(0);
    }
  });

  describe('with Discord unreachable', () => {
    let discord: DiscordStandIn | undefined;
    afterAll(async () => discord?.stop());

    it('serves the HTTP API, says why in /health/ready, and connects the bot once Discord comes up', async () => {
      const discordPort = await freePort();
      const port = await freePort();
      const url = `http://127.0.0.1:${discordPort}`;
      const herald = startHeraldProcess({
        ...baseTestEnv(),
        HERALD_ROLES: 'api,discord',
        DISCORD_TOKEN: 'stand-in-bot-token',
        DISCORD_API_URL: `${url}/api`,
        DISCORD_CDN_URL: `${url}/cdn`,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
      });
      try {
        const ready = await eventually(
          async () => {
            const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
            const body = (await response.json()) as { info?: Record<string, { degraded?: boolean; message?: string }> };
            return response.status === 200 && body.info?.discord?.degraded ? body : undefined;
          },
          90_000,
          250,
        );
        expect(ready.info!.discord.message).toContain(`cannot log in to Discord at ${url}/api`);
        expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
        expect(herald.lines().some((line) => line.msg === 'Could not log in to Discord; retrying')).toBe(true);

        discord = await startDiscordStandIn({ port: discordPort });
        await discord.waitForIdentify(1, { timeoutMs: 90_000 });
        await discordReadiness(port, (entry) => !entry.degraded);
      } finally {
        expect((await herald.stop()).code).toBe(0);
      }
    });
  });

  describe('with a bot whose Developer Portal settings refuse what Herald asks', () => {
    let discord: DiscordStandIn | undefined;
    afterEach(async () => discord?.stop());

    /** Herald with the bot and message images against `standIn`, logging what an operator reads at start-up. */
    const startBot = async (standIn: DiscordStandIn, env: Record<string, string> = {}) => {
      const port = await freePort();
      const herald = startHeraldProcess({
        ...baseTestEnv(),
        HERALD_ROLES: 'api,discord',
        DISCORD_TOKEN: standIn.token,
        DISCORD_API_URL: standIn.apiUrl,
        DISCORD_CDN_URL: standIn.cdnUrl,
        DISCORD_RENDER_MESSAGES: 'true',
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        ...env,
      });
      return { herald, port };
    };

    it('names the privileged intent to switch on and where, and connects once it is on, without a restart', async () => {
      // The Message Content Intent left off, as it is for every new application: Discord closes IDENTIFY with 4014.
      discord = await startDiscordStandIn({ privilegedIntents: { messageContent: false } });
      const { herald, port } = await startBot(discord);
      try {
        const degraded = await discordReadiness(port, (entry) => /4014/.test(entry.message ?? ''));
        expect(degraded.message).toContain('Discord refused the Message Content Intent (gateway close 4014)');
        expect(degraded.message).toContain('Bot → Privileged Gateway Intents');
        const logged = herald.lines().find((line) => line.msg === 'Could not log in to Discord; retrying');
        expect(logged).toMatchObject({ level: 50, reason: expect.stringContaining('Message Content Intent') });
        expect(discord.connectedSessions).toBe(0);

        discord.switchPrivilegedIntents({ messageContent: true });
        await discordReadiness(port, (entry) => !entry.degraded);
        expect(discord.connectedIntents).toEqual([expect.any(Number)]);
        expect(discord.connectedIntents[0] & GatewayIntentBits.MessageContent).toBeTruthy();
        const servers = await eventually(() => herald.lines().find((line) => String(line.msg).startsWith('Discord servers the bot is in')));
        expect(servers).toMatchObject({ level: 30, servers: 1, invite: expect.stringContaining(`client_id=${discord.applicationId}`) });
      } finally {
        expect((await herald.stop()).code).toBe(0);
      }
    });

    it('logs the link that adds a bot in no server yet, asking for the permissions its features use', async () => {
      discord = await startDiscordStandIn({ botInNoServer: true });
      const { herald } = await startBot(discord);
      try {
        const warned = await eventually(
          () => herald.lines().find((line) => String(line.msg).startsWith('The bot is in no Discord server yet')),
          90_000,
          250,
        );
        // View Channels 1024 + Send Messages 2048 + Embed Links 16384 + Read Message History 65536; commands' scope.
        const invite = `https://discord.com/oauth2/authorize?client_id=${discord.applicationId}&scope=bot%20applications.commands&permissions=84992`;
        expect(warned).toMatchObject({ level: 40, servers: 0, invite });
        expect(warned.msg).toContain(invite);

        // Someone follows the link: the bot says so, and draws the server's messages from then on.
        discord.addBotToServer();
        const added = await eventually(() => herald.lines().find((line) => line.msg === 'The bot was added to a Discord server'));
        expect(added).toMatchObject({ level: 30, guildId: discord.guild.id, guildName: discord.guild.name });
        const message = discord.messageCreate({ channelId: discord.channels.general.id, author: discord.users.alice, content: 'first words' });
        await eventually(() => herald.lines().find((line) => line.msg === 'Rendered message image' && line.messageId === message.id), 60_000, 250);
      } finally {
        expect((await herald.stop()).code).toBe(0);
      }
    });

    it('with DISCORD_COMMANDS=guild, registers the commands in a server the bot is added to while it runs', async () => {
      const standIn = (discord = await startDiscordStandIn({ botInNoServer: true }));
      const { herald } = await startBot(standIn, { DISCORD_COMMANDS: 'guild', DISCORD_RENDER_MESSAGES: 'false' });
      try {
        await eventually(() => herald.lines().find((line) => String(line.msg).startsWith('The bot is in no Discord server yet')), 90_000, 250);
        // Started: the registration at login is done (in no server, it had none to register in).
        await eventually(() => herald.lines().find((line) => String(line.msg).startsWith('Listening on')), 90_000, 250);
        expect(discord.interactions.registered(discord.guild.id)).toEqual([]);
        // Someone follows the invite link: the server gets the commands now, not at the next start.
        discord.addBotToServer();
        await standIn.waitFor(() => standIn.interactions.registered(standIn.guild.id).length === 2, { timeoutMs: 30_000, what: 'the commands' });
        expect(
          discord.interactions
            .registered(discord.guild.id)
            .map((command) => command.name)
            .sort(),
        ).toEqual(['Render as image', 'herald']);
      } finally {
        expect((await herald.stop()).code).toBe(0);
      }
    });

    it('in a process that only posts (Notify), logs the bot it posts as with its link, and a refused token at start', async () => {
      discord = await startDiscordStandIn();
      const posting = await startBot(discord, { HERALD_ROLES: 'api', DISCORD_RENDER_MESSAGES: 'false' });
      const wrong = await startBot(discord, { HERALD_ROLES: 'api', DISCORD_RENDER_MESSAGES: 'false', DISCORD_TOKEN: 'not-the-bot-token' });
      try {
        const told = await eventually(() => posting.herald.lines().find((line) => String(line.msg).startsWith('Posting to Discord as')), 90_000, 250);
        // View Channels, Send Messages and Embed Links: what Notify, Drone and the VK bridge post with; no commands here.
        const invite = `https://discord.com/oauth2/authorize?client_id=${discord.applicationId}&scope=bot&permissions=19456`;
        expect(told).toMatchObject({ level: 30, applicationId: discord.applicationId, invite });
        const refused = await eventually(
          () => wrong.herald.lines().find((line) => String(line.msg).startsWith('Discord refused DISCORD_TOKEN')),
          90_000,
          250,
        );
        expect(refused).toMatchObject({ level: 50, reason: expect.stringContaining('Discord 401') });
      } finally {
        expect((await posting.herald.stop()).code).toBe(0);
        expect((await wrong.herald.stop()).code).toBe(0);
      }
    });

    it('says a refused token is DISCORD_TOKEN and where to get the right one', async () => {
      discord = await startDiscordStandIn();
      const { herald, port } = await startBot(discord, { DISCORD_TOKEN: 'not-the-bot-token', DISCORD_RENDER_MESSAGES: 'false' });
      try {
        const degraded = await discordReadiness(port, (entry) => /DISCORD_TOKEN/.test(entry.message ?? ''));
        expect(degraded.message).toContain('Discord refused DISCORD_TOKEN (An invalid token was provided.)');
        expect(degraded.message).toContain('Bot → Reset Token');
        expect(herald.lines().find((line) => line.msg === 'Could not log in to Discord; retrying')).toMatchObject({ level: 50 });
      } finally {
        expect((await herald.stop()).code).toBe(0);
      }
    });
  });

  it('stops at once when signalled while VK is still handing out the first key, instead of waiting out a long poll', async () => {
    const vk = await VkStandIn.start();
    const key = vk.holdLongPollServer();
    const herald = await startVkPoller(vk);
    try {
      await key.asked;
      const stopping = herald.stop();
      await eventually(() => herald.lines().find((line) => String(line.msg).startsWith('Shutting down')), 10_000, 50);
      // The key arrives once the shutdown has begun: on the old code the poller then began a 25 s long poll, and the
      // shutdown ran out its deadline (twice SHUTDOWN_TIMEOUT_MS and 1.5 s) and exited 1.
      key.release();
      const signalled = Date.now();
      expect((await stopping).code).toBe(0);
      expect(Date.now() - signalled).toBeLessThan(10_000);
      expect(herald.lines().map((line) => line.msg)).not.toContain('Shutdown took too long; exiting');
    } finally {
      await vk.close();
    }
  });

  it("reads the VK community's Long Poll settings once, naming an old API version and event types left unticked", async () => {
    const vk = await VkStandIn.start({ longPollApiVersion: '5.92', longPollEvents: { message_edit: 0, message_reaction_event: 0 } });
    const herald = await startVkPoller(vk);
    try {
      const said = (start: string) => eventually(() => herald.lines().find((line) => String(line.msg).startsWith(start)), 90_000, 250);
      const version = await said('The community sends Long Poll events in API 5.92; Herald reads 5.103 and later');
      expect(version).toMatchObject({ level: 40, apiVersion: '5.92' });
      expect(version.msg).toContain('Manage → API usage → Long Poll API');
      const unticked = await said('The community does not send message_edit, message_reaction_event');
      expect(unticked).toMatchObject({ level: 40, off: ['message_edit', 'message_reaction_event'] });
      expect(unticked.msg).toContain('"Event types" tab');
    } finally {
      expect((await herald.stop()).code).toBe(0);
      await vk.close();
    }
  });

  describe('with a VK community VK refuses to hand Long Poll keys for', () => {
    type Entry = { status: string; degraded?: boolean; message?: string };
    /** Readiness's vk-long-poll entry once `matches` holds for it; the answer stays 200 (degraded, not unready). */
    const longPollReadiness = (port: number, matches: (entry: Entry) => boolean) =>
      eventually(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
          const entry = ((await response.json()) as { info?: Record<string, Entry> }).info?.['vk-long-poll'];
          return response.status === 200 && entry && matches(entry) ? entry : undefined;
        },
        90_000,
        250,
      );
    const backoff = { OUTBOX_BACKOFF_BASE_MS: '100', OUTBOX_BACKOFF_MAX_MS: '1000' };

    it('names VK_TOKEN and its right to manage the community in the log and /health/ready, and polls once VK grants it, without a restart', async () => {
      const vk = await VkStandIn.start({ tokenManages: false });
      const port = await freePort();
      const herald = await startVkPoller(vk, { ...backoff, PORT: String(port) });
      try {
        const said = await eventually(() => herald.lines().find((line) => String(line.msg).startsWith('VK denied the Long Poll key')), 90_000, 250);
        expect(said).toMatchObject({ level: 50, code: 15 });
        expect(said.msg).toContain(`VK denied the Long Poll key of community ${vk.groupId} (error 15, access denied)`);
        expect(said.msg).toContain('VK_TOKEN');
        expect(said.msg).toContain('right to manage the community');
        expect((await longPollReadiness(port, (entry) => entry.degraded === true)).message).toBe(said.msg);

        vk.setTokenManages(true);
        expect(await longPollReadiness(port, (entry) => entry.degraded === undefined)).toEqual({ status: 'up' });
      } finally {
        expect((await herald.stop()).code).toBe(0);
        await vk.close();
      }
    });

    it("names VK_GROUP_ID and where to read it when it is not the token's community", async () => {
      const vk = await VkStandIn.start();
      const port = await freePort();
      const herald = await startVkPoller(vk, { ...backoff, PORT: String(port), VK_GROUP_ID: String(vk.groupId + 1) });
      try {
        const said = await eventually(() => herald.lines().find((line) => String(line.msg).startsWith('VK denied the Long Poll key')), 90_000, 250);
        expect(said).toMatchObject({ level: 50, code: 15 });
        expect(said.msg).toContain(`community ${vk.groupId + 1}`);
        expect(said.msg).toContain('VK_GROUP_ID must be the numeric id of the community VK_TOKEN belongs to (groups.getById');
        expect((await longPollReadiness(port, (entry) => entry.degraded === true)).message).toBe(said.msg);
      } finally {
        expect((await herald.stop()).code).toBe(0);
        await vk.close();
      }
    });
  });

  it('on SIGTERM answers readiness with 503 and lets an in-flight request finish, then exits 0', async () => {
    const port = await freePort();
    const env: Record<string, string> = {
      ...baseTestEnv(),
      HERALD_ROLES: 'api',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: '20000',
    };
    const herald = startHeraldProcess(env);
    // The browser warms its pages before readiness: give a loaded CI host room.
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200, 180_000, 250);
    expect(herald.lines().find((line) => line.msg === `Listening on 127.0.0.1:${port}`)).toMatchObject({ host: '127.0.0.1', port });

    // A client still uploading its request when the signal comes, and a probe whose request has begun.
    const body = JSON.stringify(METRICS_IMAGE_EXAMPLE);
    const upload = await rawConnection(port);
    upload.socket.write(
      `POST /metrics/image HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer ${env.SYSTEM_TOKEN}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 10)}`,
    );
    const probe = await rawConnection(port);
    probe.socket.write('GET /health/ready HTTP/1.1\r\nHost: herald\r\n');
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the server take both requests in

    herald.child.kill('SIGTERM');
    await eventually(() => herald.lines().some((line) => String(line.msg).startsWith('Shutting down')), 20_000, 50);
    probe.socket.write('Connection: close\r\n\r\n');
    await eventually(() => probe.received().includes('\r\n\r\n'), 20_000, 50);
    expect(probe.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(probe.received()).toContain('Herald is shutting down');

    upload.socket.write(body.slice(10));
    await eventually(() => /\r\n\r\n[\s\S]*"images"/.test(upload.received()), 60_000, 50).catch(() => {
      throw new Error(`the in-flight request got no chart: ${JSON.stringify(upload.received())}\n${JSON.stringify(herald.output().slice(-3000))}`);
    });
    expect(upload.received()).toMatch(/^HTTP\/1\.1 200 /);
    const exited = await herald.exited;
    expect(exited.code).toBe(0);
    upload.socket.destroy();
    probe.socket.destroy();
  });
});

/** A Herald process that only polls the stand-in's VK community (role `vk`), routing to the test RabbitMQ. */
async function startVkPoller(vk: VkStandIn, extra: Record<string, string> = {}): Promise<HeraldProcess> {
  return startHeraldProcess({
    ...baseTestEnv(),
    HERALD_ROLES: 'vk',
    VK_TOKEN: vk.token,
    VK_GROUP_ID: String(vk.groupId),
    VK_API_URL: vk.apiUrl,
    AMQP_URL: requireEnv('TEST_AMQP_URL'),
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...extra,
  });
}
