import { getModelToken } from '@nestjs/mongoose';
import type { APIEmbed } from 'discord-api-types/v10';
import type { Model } from 'mongoose';
import { BuildMessage } from '../../src/drone/build-message.schema';
import { OutboxJob } from '../../src/outbox/outbox.schema';
import type { DroneWebhookPayload } from '../../src/drone/drone-webhook.types';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { droneBuildEvent, droneRepoEvent, droneUserEvent, newBuildScenario, type BuildScenario } from '../stand-ins/drone/drone-payloads';
import { droneDelivery, goJsonMarshal, postDroneDelivery, signDroneDelivery, type DroneDelivery } from '../stand-ins/drone/drone-signer';
import { bootHerald, eventually } from '../support/app';
import { metric } from '../support/metrics';
import { ensureBuilt, spawnHerald, type HeraldReplica } from '../support/process';

jest.setTimeout(300_000);

const SECRET = 'drone-shared-secret-for-tests';

describe('Drone webhook → one Discord message per build', () => {
  let discord: DiscordStandIn;
  let herald: Awaited<ReturnType<typeof bootHerald>>;
  let webhookUrl: string;
  let buildsChannel: string;
  let releasesChannel: string;
  let records: Model<BuildMessage>;
  let jobs: Model<OutboxJob>;

  beforeAll(async () => {
    // The replica tests run dist/main.js as a second process.
    ensureBuilt();
    discord = await startDiscordStandIn();
    buildsChannel = discord.channels.builds.id;
    releasesChannel = discord.channels.announcements.id;
    herald = await bootHerald({
      HERALD_ROLES: 'api',
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DRONE_WEBHOOK_SECRET: SECRET,
      DRONE_CHANNEL_ID: buildsChannel,
      DRONE_REPO_CHANNELS: `octocat/releases=${releasesChannel}`,
      BROWSER_POOL_SIZE: '1',
      OUTBOX_BACKOFF_BASE_MS: '50',
      OUTBOX_BACKOFF_MAX_MS: '200',
    });
    webhookUrl = `${herald.url}/drone/webhook`;
    records = herald.app.get<Model<BuildMessage>>(getModelToken(BuildMessage.name));
    jobs = herald.app.get<Model<OutboxJob>>(getModelToken(OutboxJob.name));
  });

  afterAll(async () => {
    await herald?.close();
    await discord?.stop();
  });

  afterEach(() => discord.clearFailures());

  function deliver(payload: DroneWebhookPayload, tamper?: (delivery: DroneDelivery) => DroneDelivery) {
    return postDroneDelivery(webhookUrl, droneDelivery(payload, { secret: SECRET }, tamper));
  }

  function messagesOf(scenario: BuildScenario, channelId = buildsChannel) {
    return discord.messages(channelId).filter((stored) => stored.message.embeds[0]?.title?.includes(`${scenario.slug} #`));
  }

  function recordOf(scenario: BuildScenario) {
    return records.findOne({ repoId: scenario.repoId, buildId: scenario.buildId }).lean().exec();
  }

  function laneOf(scenario: BuildScenario): string {
    return `drone:build:${scenario.system.host}/${scenario.repoId}/${scenario.buildId}`;
  }

  /** Nothing of the build is left queued or running in the outbox. */
  async function settled(scenario: BuildScenario): Promise<boolean> {
    return (await jobs.countDocuments({ lane: laneOf(scenario), state: 'queued' })) === 0;
  }

  function embedOf(scenario: BuildScenario, channelId = buildsChannel): APIEmbed {
    const [only] = messagesOf(scenario, channelId);
    return only.message.embeds[0];
  }

  it('posts the build on created, edits it on running and success, and ends green with the duration', async () => {
    const build = newBuildScenario();

    const created = await deliver(droneBuildEvent(build, { status: 'pending' }));
    expect(created).toMatchObject({ status: 200, body: { outcome: 'shown', status: 'pending', shownStatus: 'pending' } });
    expect(messagesOf(build)).toHaveLength(1);
    expect(embedOf(build).title).toBe(`⏳ ${build.slug} #${build.buildNumber}`);
    expect(embedOf(build).url).toBe(`https://drone.example.com/${build.slug}/${build.buildNumber}`);

    expect((await deliver(droneBuildEvent(build, { status: 'running', progress: 1 }))).status).toBe(200);
    expect(embedOf(build).title).toBe(`🔄 ${build.slug} #${build.buildNumber}`);
    expect(embedOf(build).color).toBe(0xf1c40f);

    expect((await deliver(droneBuildEvent(build, { status: 'success', durationSeconds: 95 }))).status).toBe(200);
    const messages = messagesOf(build);
    expect(messages).toHaveLength(1);
    expect(messages[0].edits).toHaveLength(2);
    const final = messages[0].message.embeds[0];
    expect(final.title).toBe(`✅ ${build.slug} #${build.buildNumber}`);
    expect(final.color).toBe(0x2ecc71);
    expect(final.fields).toEqual(expect.arrayContaining([{ name: 'Duration', value: '1m 35s', inline: true }]));
    expect(discord.requestCount({ method: 'POST', path: `/channels/${buildsChannel}/messages`, status: 200 })).toBeGreaterThanOrEqual(1);

    const record = await recordOf(build);
    expect(record).toMatchObject({
      messageId: messages[0].message.id,
      status: 'success',
      syncedStatus: 'success',
      delivery: 'sent',
      channelId: buildsChannel,
    });
  });

  it('keeps exactly one message for 20 concurrent, shuffled and repeated deliveries to two replica processes and ends on the latest status', async () => {
    const replica = await spawnHerald(herald.env, { fresh: false });
    try {
      await twentyConcurrentDeliveries([webhookUrl, `${replica.url}/drone/webhook`]);
    } finally {
      expect(await replica.stop()).toBe(0);
    }
  });

  async function twentyConcurrentDeliveries(urls: string[]): Promise<void> {
    const build = newBuildScenario();
    const events = [
      droneBuildEvent(build, { status: 'pending' }),
      droneBuildEvent(build, { status: 'pending' }),
      ...[0, 1, 1, 2, 2, 3, 3, 0].map((progress) => droneBuildEvent(build, { status: 'running', progress })),
      ...Array.from({ length: 10 }, (_, index) =>
        index % 2 === 0
          ? droneBuildEvent(build, { status: 'failure', durationSeconds: 61 })
          : droneBuildEvent(build, { status: 'running', progress: 3 }),
      ),
    ];
    expect(events).toHaveLength(20);
    const shuffled = events.map((event, index) => ({ event, key: (index * 7919) % 20 })).sort((a, b) => a.key - b.key);

    const answers = await Promise.all(
      shuffled.map(({ event }, index) => postDroneDelivery(urls[index % urls.length], droneDelivery(event, { secret: SECRET }))),
    );

    expect(answers.map((answer) => answer.status).every((status) => status === 200 || status === 202)).toBe(true);
    await eventually(() => settled(build), 120_000);
    const messages = messagesOf(build, buildsChannel);
    expect(messages).toHaveLength(1);
    const embed = messages[0].message.embeds[0];
    expect(embed.title).toBe(`❌ ${build.slug} #${build.buildNumber}`);
    expect(embed.fields).toEqual(expect.arrayContaining([{ name: 'Failed', value: 'default › test' }]));
    expect(await records.countDocuments({ buildId: build.buildId })).toBe(1);
    expect(await recordOf(build)).toMatchObject({ status: 'failure', syncedStatus: 'failure', delivery: 'sent' });
    expect(await jobs.countDocuments({ lane: laneOf(build), state: 'done' })).toBe(20);
  }

  it('keeps exactly one message for 20 concurrent deliveries to one process', async () => {
    await twentyConcurrentDeliveries([webhookUrl]);
  });

  it('keeps exactly one message when two replica processes get deliveries for the same build at once', async () => {
    let replica: HeraldReplica | undefined;
    try {
      replica = await spawnHerald(herald.env, { fresh: false });
      const build = newBuildScenario();
      const events = [
        ...Array.from({ length: 4 }, () => droneBuildEvent(build, { status: 'pending' })),
        ...[0, 1, 2, 3, 1, 2].map((progress) => droneBuildEvent(build, { status: 'running', progress })),
        ...Array.from({ length: 4 }, () => droneBuildEvent(build, { status: 'success', durationSeconds: 30 })),
      ].reverse();
      const urls = [webhookUrl, `${replica.url}/drone/webhook`];

      const answers = await Promise.all(events.map((event, index) => postDroneDelivery(urls[index % 2], droneDelivery(event, { secret: SECRET }))));

      expect(answers.every((answer) => answer.status === 200 || answer.status === 202)).toBe(true);
      await eventually(() => settled(build), 120_000);
      const messages = messagesOf(build);
      expect(messages).toHaveLength(1);
      expect(messages[0].message.embeds[0].title).toBe(`✅ ${build.slug} #${build.buildNumber}`);
      expect(await recordOf(build)).toMatchObject({ syncedStatus: 'success', delivery: 'sent' });
    } finally {
      expect(await replica?.stop()).toBe(0);
    }
  });

  it('never lets a late running overwrite a finished build', async () => {
    const build = newBuildScenario();
    await deliver(droneBuildEvent(build, { status: 'pending' }));
    await deliver(droneBuildEvent(build, { status: 'success' }));
    const late = await deliver(droneBuildEvent(build, { status: 'running', progress: 3, version: 7 }));

    expect(late).toMatchObject({ status: 200, body: { status: 'running', shownStatus: 'success' } });
    expect(embedOf(build).title?.startsWith('✅')).toBe(true);
    expect((await recordOf(build))?.status).toBe('success');
  });

  it('puts a repository mapped in DRONE_REPO_CHANNELS into its own channel', async () => {
    const build = newBuildScenario({ slug: 'Octocat/Releases' });
    expect((await deliver(droneBuildEvent(build, { status: 'pending' }))).status).toBe(200);
    expect(messagesOf(build, releasesChannel)).toHaveLength(1);
    expect(messagesOf(build, buildsChannel)).toHaveLength(0);
  });

  describe('rejects bad deliveries and stores nothing', () => {
    const cases: Array<[string, number, string | RegExp, (build: BuildScenario) => Promise<{ status: number; body: unknown }>]> = [
      [
        'a signature made with another secret',
        401,
        'signature does not match',
        (build) => postDroneDelivery(webhookUrl, droneDelivery(droneBuildEvent(build, { status: 'pending' }), { secret: 'not-the-secret' })),
      ],
      [
        'a body changed after signing',
        401,
        'Digest does not match the request body',
        (build) =>
          deliver(droneBuildEvent(build, { status: 'pending' }), (delivery) => ({
            ...delivery,
            body: Buffer.from(delivery.body.toString().replace('"pending"', '"success"')),
          })),
      ],
      [
        'a body re-serialised after signing',
        401,
        'Digest does not match the request body',
        (build) =>
          deliver(droneBuildEvent(build, { status: 'pending', message: 'Bump <deps> & more' }), (delivery) => ({
            ...delivery,
            body: Buffer.from(JSON.stringify(JSON.parse(delivery.body.toString()))),
          })),
      ],
      [
        'a stale Date',
        401,
        /^Date is more than 300 seconds away/,
        (build) =>
          postDroneDelivery(
            webhookUrl,
            droneDelivery(droneBuildEvent(build, { status: 'pending' }), { secret: SECRET, date: new Date(Date.now() - 10 * 60_000) }),
          ),
      ],
      [
        'no Date',
        401,
        'missing Date header',
        (build) =>
          deliver(droneBuildEvent(build, { status: 'pending' }), (delivery) => {
            const { Date: _date, ...headers } = delivery.headers;
            return { ...delivery, headers };
          }),
      ],
      [
        'no Signature',
        401,
        'missing Signature header',
        (build) =>
          deliver(droneBuildEvent(build, { status: 'pending' }), (delivery) => {
            const { Signature: _signature, ...headers } = delivery.headers;
            return { ...delivery, headers };
          }),
      ],
      [
        'signed JSON that does not parse',
        400,
        /JSON/,
        () => {
          const body = Buffer.from('{"event":"build","action":"created",');
          return postDroneDelivery(webhookUrl, { body, headers: signDroneDelivery(body, { secret: SECRET, event: 'build' }) });
        },
      ],
      [
        'unsigned-for-this-secret JSON that does not parse (refused as forged before it is parsed)',
        401,
        'signature does not match',
        () => {
          const body = Buffer.from('{"event":"build","action":"created",');
          return postDroneDelivery(webhookUrl, { body, headers: signDroneDelivery(body, { secret: 'not-the-secret', event: 'build' }) });
        },
      ],
      [
        'a signed build hook without a build id',
        400,
        /build\.id/,
        (build) => {
          const payload = droneBuildEvent(build, { status: 'pending' });
          const body = goJsonMarshal({ ...payload, build: { ...payload.build, id: undefined } });
          return postDroneDelivery(webhookUrl, { body, headers: signDroneDelivery(body, { secret: SECRET, event: 'build' }) });
        },
      ],
      [
        'a repo update',
        202,
        'event repo:updated is not one Herald shows',
        (build) => deliver({ ...droneBuildEvent(build, { status: 'pending' }), event: 'repo', action: 'updated' }),
      ],
      [
        'a signed user hook without a login',
        400,
        /user\.login/,
        (build) => deliver({ event: 'user', action: 'created', user: { id: build.repoId } as never }),
      ],
      [
        'an unknown build action',
        202,
        'event build:deleted is not one Herald shows',
        (build) => deliver({ ...droneBuildEvent(build, { status: 'pending' }), action: 'deleted' }),
      ],
    ];

    it.each(cases)('%s → %d', async (_name, status, reason, send) => {
      const build = newBuildScenario();
      const requestsBefore = discord.requests.length;

      const answer = await send(build);

      expect(answer.status).toBe(status);
      const text = status === 202 ? (answer.body as { reason: string }).reason : (answer.body as { message: string }).message;
      if (typeof reason === 'string') expect(text).toBe(reason);
      else expect(text).toMatch(reason);
      expect(await records.countDocuments({ repoId: build.repoId })).toBe(0);
      expect(await jobs.countDocuments({ lane: laneOf(build) })).toBe(0);
      expect(discord.requests.length).toBe(requestsBefore);
    });
  });

  describe('when Discord fails', () => {
    it('waits out a rate limit and retries 5xx without a second message', async () => {
      const build = newBuildScenario();
      discord.failNext({ status: 429, retryAfter: 1, method: 'POST', path: `/channels/${buildsChannel}/messages` });
      discord.failNext({ status: 502, times: 2, method: 'POST', path: `/channels/${buildsChannel}/messages` });

      const answer = await deliver(droneBuildEvent(build, { status: 'pending' }));

      expect(answer.status).toBe(200);
      expect(messagesOf(build)).toHaveLength(1);
      expect(discord.requestCount({ method: 'POST', path: `/channels/${buildsChannel}/messages`, status: 429 })).toBeGreaterThanOrEqual(1);
    });

    it('marks a build whose message Discord refuses as failed, parks the job, and sends it on the next event', async () => {
      const build = newBuildScenario();
      discord.missingAccess(buildsChannel);

      const refused = await deliver(droneBuildEvent(build, { status: 'pending' }));

      expect(refused.status).toBe(502);
      expect((refused.body as { message: string }).message).toMatch(/retried on the build's next event/);
      expect(messagesOf(build)).toHaveLength(0);
      const failed = await recordOf(build);
      expect(failed).toMatchObject({ delivery: 'failed', failedAttempts: 1 });
      const outbox = await fetch(`${herald.url}/outbox?queue=drone`, { headers: { Authorization: `Bearer ${herald.token}` } });
      expect(outbox.status).toBe(200);
      const { parked } = (await outbox.json()) as { parked: Array<{ lane: string; state: string; lastError: string }> };
      expect(parked.filter((job) => job.lane === laneOf(build))).toEqual([
        expect.objectContaining({ state: 'parked', lastError: expect.stringMatching(/403/) }),
      ]);
      expect(failed?.messageId ?? null).toBeNull();
      expect(failed?.lastError).toMatch(/403/);
      expect(await metric(herald.url, 'herald_drone_message_failures_total', { kind: 'permanent' })).toBeGreaterThanOrEqual(1);

      discord.restoreChannel(buildsChannel);
      const next = await deliver(droneBuildEvent(build, { status: 'running', progress: 1 }));

      expect(next.status).toBe(200);
      expect(messagesOf(build)).toHaveLength(1);
      expect(embedOf(build).title?.startsWith('🔄')).toBe(true);
      expect(await recordOf(build)).toMatchObject({ delivery: 'sent', syncedStatus: 'running', lastError: null });
    });

    it('retries a failed last event in the background until Discord takes it, with no new delivery', async () => {
      const build = newBuildScenario();
      await deliver(droneBuildEvent(build, { status: 'pending' }));
      // Discord goes down (beyond @discordjs/rest's own retries and the webhook's wait) right at the build's last event.
      discord.failNext({ status: 502, times: 1000, method: 'PATCH' });

      const last = await deliver(droneBuildEvent(build, { status: 'success' }));

      expect(last).toMatchObject({ status: 202, body: { outcome: 'queued', status: 'success' } });
      expect(embedOf(build).title?.startsWith('⏳')).toBe(true);
      expect(await recordOf(build)).toMatchObject({ syncedStatus: 'pending', lastError: expect.stringMatching(/502/) });
      const callsBefore = discord.requests.length;

      discord.clearFailures();

      await eventually(async () => (await recordOf(build))?.syncedStatus === 'success', 60_000);
      expect(messagesOf(build)).toHaveLength(1);
      expect(embedOf(build).title).toBe(`✅ ${build.slug} #${build.buildNumber}`);
      expect(await recordOf(build)).toMatchObject({ delivery: 'sent', status: 'success', lastError: null });
      expect(discord.requests.length).toBeGreaterThan(callsBefore);
      await eventually(() => settled(build));
    });

    it('posts the message again when someone deleted it in Discord', async () => {
      const build = newBuildScenario();
      await deliver(droneBuildEvent(build, { status: 'pending' }));
      const [first] = messagesOf(build);
      // A moderator removes it (through the REST API: this suite runs no gateway session).
      const removed = await fetch(`${discord.apiUrl}/v10/channels/${buildsChannel}/messages/${first.message.id}`, {
        method: 'DELETE',
        headers: { Authorization: `Bot ${discord.token}` },
      });
      expect(removed.status).toBe(204);

      expect((await deliver(droneBuildEvent(build, { status: 'success' }))).status).toBe(200);

      const [again] = messagesOf(build);
      expect(again.message.id).not.toBe(first.message.id);
      expect(again.message.embeds[0].title?.startsWith('✅')).toBe(true);
      expect((await recordOf(build))?.messageId).toBe(again.message.id);
    });
  });

  describe('user and repository events (what drone-discord posted)', () => {
    function titled(channelId: string, title: string) {
      return discord.messages(channelId).filter((stored) => stored.message.embeds[0]?.title === title);
    }

    it('posts one message for a user created and one for a user deleted, in the configured channel', async () => {
      const login = `dev-${Date.now()}`;
      const created = await deliver(droneUserEvent('created', login));
      expect(created).toMatchObject({ status: 200, body: { outcome: 'posted', event: 'user:created' } });
      expect(titled(buildsChannel, `👤 Drone user ${login} created`)).toHaveLength(1);
      expect((created.body as { messageId: string }).messageId).toBe(titled(buildsChannel, `👤 Drone user ${login} created`)[0].message.id);

      expect((await deliver(droneUserEvent('deleted', login))).status).toBe(200);
      const deleted = titled(buildsChannel, `👤 Drone user ${login} deleted`);
      expect(deleted).toHaveLength(1);
      expect(deleted[0].message.embeds[0].fields).toEqual(expect.arrayContaining([{ name: 'Login', value: login, inline: true }]));
    });

    it("posts one message for a repository enabled and one for disabled, in the repository's channel", async () => {
      const repo = newBuildScenario();
      const mapped = newBuildScenario({ slug: 'Octocat/Releases' });
      expect((await deliver(droneRepoEvent('enabled', repo))).status).toBe(200);
      expect((await deliver(droneRepoEvent('disabled', repo))).status).toBe(200);
      expect((await deliver(droneRepoEvent('enabled', mapped))).status).toBe(200);

      expect(titled(buildsChannel, `📦 ${repo.slug} enabled on Drone`)).toHaveLength(1);
      const disabled = titled(buildsChannel, `📦 ${repo.slug} disabled on Drone`);
      expect(disabled).toHaveLength(1);
      expect(disabled[0].message.embeds[0].url).toBe(`https://drone.example.com/${repo.slug}`);
      expect(disabled[0].message.embeds[0].fields).toEqual(expect.arrayContaining([{ name: 'By', value: 'octocat', inline: true }]));
      expect(titled(releasesChannel, `📦 ${mapped.slug} enabled on Drone`)).toHaveLength(1);
    });

    it('posts one message for a user or repository delivery sent twice (replayed within the signature window)', async () => {
      const login = `replayed-${Date.now()}`;
      const userEvent = droneUserEvent('created', login);
      const userDelivery = droneDelivery(userEvent, { secret: SECRET });
      const first = await postDroneDelivery(webhookUrl, userDelivery);
      const again = await postDroneDelivery(webhookUrl, userDelivery);
      expect(first).toMatchObject({ status: 200, body: { outcome: 'posted', event: 'user:created' } });
      expect(again).toEqual(first);

      const repo = newBuildScenario();
      const repoDelivery = droneDelivery(droneRepoEvent('enabled', repo), { secret: SECRET });
      expect((await postDroneDelivery(webhookUrl, repoDelivery)).status).toBe(200);
      expect((await postDroneDelivery(webhookUrl, repoDelivery)).status).toBe(200);

      expect(titled(buildsChannel, `👤 Drone user ${login} created`)).toHaveLength(1);
      expect(titled(buildsChannel, `📦 ${repo.slug} enabled on Drone`)).toHaveLength(1);
      // The same body signed anew (another Date: Drone sending a new event) is a new message.
      const resigned = droneDelivery(userEvent, { secret: SECRET, date: new Date(Date.now() + 2000) });
      expect((await postDroneDelivery(webhookUrl, resigned)).status).toBe(200);
      expect(titled(buildsChannel, `👤 Drone user ${login} created`)).toHaveLength(2);
    });

    it('ignores each kind when its setting is off', async () => {
      const quiet = await bootHerald({ ...herald.env, DRONE_USER_MESSAGES: 'false', DRONE_REPO_MESSAGES: 'false' }, { fresh: false });
      try {
        const login = `quiet-${Date.now()}`;
        const repo = newBuildScenario();
        const user = await postDroneDelivery(`${quiet.url}/drone/webhook`, droneDelivery(droneUserEvent('created', login), { secret: SECRET }));
        const enabled = await postDroneDelivery(`${quiet.url}/drone/webhook`, droneDelivery(droneRepoEvent('enabled', repo), { secret: SECRET }));

        expect(user).toMatchObject({
          status: 202,
          body: { outcome: 'ignored', reason: 'user messages are switched off (DRONE_USER_MESSAGES=false)' },
        });
        expect(enabled).toMatchObject({
          status: 202,
          body: { outcome: 'ignored', reason: 'repository messages are switched off (DRONE_REPO_MESSAGES=false)' },
        });
        expect(titled(buildsChannel, `👤 Drone user ${login} created`)).toHaveLength(0);
        expect(titled(buildsChannel, `📦 ${repo.slug} enabled on Drone`)).toHaveLength(0);
      } finally {
        await quiet.close();
      }
    });
  });

  it('documents the endpoint and its signature headers in Swagger', async () => {
    const document = (await (await fetch(`${herald.url}/docs-json`)).json()) as {
      paths: Record<string, { post?: { parameters?: Array<{ name: string; in: string; required?: boolean }>; responses: Record<string, unknown> } }>;
    };
    const operation = document.paths['/drone/webhook']?.post;
    expect(operation).toBeDefined();
    const headers = (operation?.parameters ?? []).filter((parameter) => parameter.in === 'header');
    expect(headers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'Signature', required: true }),
        expect.objectContaining({ name: 'Digest', required: true }),
        expect.objectContaining({ name: 'Date', required: true }),
      ]),
    );
    expect(Object.keys(operation?.responses ?? {})).toEqual(expect.arrayContaining(['200', '202', '400', '401', '502']));
  });
});
