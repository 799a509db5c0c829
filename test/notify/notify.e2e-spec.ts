import { randomUUID } from 'node:crypto';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { NOTIFY_QUEUE } from '../../src/notify/notification-sender';
import { NotificationStore } from '../../src/notify/notification.store';
import { Outbox } from '../../src/outbox/outbox';
import { LANE_SWEEP_GRACE_MS } from '../../src/outbox/outbox.store';
import request from 'supertest';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { notifyClient, notifyEnv, texts, waitForTexts } from './notify-support';

jest.setTimeout(180_000);

describe('POST /notify → Discord, durably and in order', () => {
  let discord: DiscordStandIn;
  let herald: HeraldUnderTest;
  let client: ReturnType<typeof notifyClient>;
  let general: string;
  let announcements: string;
  let builds: string;

  beforeAll(async () => {
    discord = await startDiscordStandIn();
    general = discord.channels.general.id;
    announcements = discord.channels.announcements.id;
    builds = discord.channels.builds.id;
    herald = await bootHerald(notifyEnv(discord, { NOTIFY_DEFAULT_CHANNEL_ID: general }));
    client = notifyClient(herald);
  });

  afterAll(async () => {
    await herald?.close();
    await discord?.stop();
  });

  afterEach(() => discord.clearFailures());

  it('delivers 100 notifications sent in a burst, each exactly once, in order', async () => {
    const expected = Array.from({ length: 100 }, (_, index) => `burst ${String(index).padStart(3, '0')}`);
    const ids: string[] = [];
    for (const message of expected) ids.push(await client.send({ message, channelId: builds }));

    const arrived = await waitForTexts(discord, builds, 'burst ', 100);
    expect(arrived).toEqual(expected);

    const first = await client.until(ids[0], (view) => view.state === 'sent');
    expect(first.messageId).toBe(discord.messages(builds)[0].message.id);
    await client.until(ids[99], (view) => view.state === 'sent');
    expect(texts(discord, builds, 'burst ')).toHaveLength(100);
  });

  it('rides out 429s and then 500s: everything still arrives, nothing twice, in order', async () => {
    const path = `/channels/${announcements}/messages`;
    discord.failNext({ status: 429, times: 2, retryAfter: 1, method: 'POST', path });
    discord.failNext({ status: 500, times: 14, method: 'POST', path });

    const expected = Array.from({ length: 10 }, (_, index) => `storm ${index}`);
    const ids: string[] = [];
    for (const message of expected) ids.push(await client.send({ message, channelId: announcements }));

    expect(await waitForTexts(discord, announcements, 'storm ', 10)).toEqual(expected);
    expect(discord.requestCount({ method: 'POST', path, status: 429 })).toBe(2);
    expect(discord.requestCount({ method: 'POST', path, status: 500 })).toBe(14);

    // @discordjs/rest gives up on a 5xx after 3 retries; the worker backed off and tried again. Once sent, the failure
    // is over: attempts still counts the tries, lastError (which showed the 500 meanwhile) is gone.
    const first = await client.until(ids[0], (view) => view.state === 'sent');
    expect(first.attempts).toBeGreaterThan(1);
    expect(first.lastError).toBeNull();
    await client.until(ids[9], (view) => view.state === 'sent');
    expect(texts(discord, announcements, 'storm ')).toEqual(expected);
  });

  it('sends one Discord message for the same Idempotency-Key, also when the requests race', async () => {
    const key = randomUUID();
    const first = await client.post({ message: 'idempotent once', channelId: general }, { 'Idempotency-Key': key });
    const again = await client.post({ message: 'idempotent once', channelId: general }, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ id: first.body.id, state: expect.any(String) });
    expect(again.headers['idempotent-replayed']).toBe('true');

    const racingKey = randomUUID();
    const racing = await Promise.all(
      Array.from({ length: 6 }, () => client.post({ message: 'idempotent race', channelId: general }, { 'Idempotency-Key': racingKey })),
    );
    expect(racing.map((response) => response.status)).toEqual(Array(6).fill(202));
    expect(new Set(racing.map((response) => response.body.id)).size).toBe(1);

    // A later notification in the same channel arrives after everything accepted before it.
    await client.send({ message: 'idempotent marker', channelId: general });
    expect(await waitForTexts(discord, general, 'idempotent ', 3)).toEqual(['idempotent once', 'idempotent race', 'idempotent marker']);
  });

  it('refuses an Idempotency-Key reused for a different message or channel with 422, and still replays the same request', async () => {
    const key = `deploy-${randomUUID()}`;
    const first = await client.post({ message: 'reuse Deploy 42 finished', channelId: general }, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);

    const otherMessage = await client.post({ message: 'reuse Deploy 43 FAILED', severity: 'error', channelId: general }, { 'Idempotency-Key': key });
    expect(otherMessage.status).toBe(422);
    expect(otherMessage.headers['idempotent-replayed']).toBeUndefined();
    expect(otherMessage.body).toMatchObject({
      statusCode: 422,
      message: expect.stringContaining('Idempotency-Key: this key was already used for a different request'),
      errors: [{ field: 'Idempotency-Key', messages: [expect.any(String)] }],
      // As the documented 422 says: the notification first stored under the key.
      id: (first.body as { id: string }).id,
      state: expect.stringMatching(/^(queued|sent)$/),
    });
    const otherChannel = await client.post({ message: 'reuse Deploy 42 finished', channelId: builds }, { 'Idempotency-Key': key });
    expect(otherChannel.status).toBe(422);

    // The same request again, the channel now left to the default (the same one), is the first notification.
    const again = await client.post({ message: 'reuse Deploy 42 finished' }, { 'Idempotency-Key': key });
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers['idempotent-replayed']).toBe('true');

    await client.send({ message: 'reuse marker', channelId: general });
    expect(await waitForTexts(discord, general, 'reuse ', 2)).toEqual(['reuse Deploy 42 finished', 'reuse marker']);
    expect(texts(discord, builds, 'reuse ')).toEqual([]);
  });

  it("ends in failed with Discord's error when the channel is unknown or the bot may not post there", async () => {
    const unknown = await client.send({ message: 'nowhere', channelId: '999999999999999999' });
    const hidden = await client.send({ message: 'not allowed', channelId: discord.channels.secret.id });

    expect(await client.until(unknown, (view) => view.state === 'failed')).toMatchObject({
      pending: null,
      messageId: null,
      lastError: {
        status: 404,
        code: 10003,
        message: expect.stringContaining(
          "Unknown Channel (no channel with this id is visible to the bot: check the id, and that the bot is in the channel's server",
        ),
      },
    });
    expect(await client.until(hidden, (view) => view.state === 'failed')).toMatchObject({
      lastError: { status: 403, code: 50001, message: expect.stringContaining('Missing Access (the bot cannot see this channel: add it to') },
    });
  });

  it('makes one message when Discord took a create but its answer was lost: the create is sent again with the same nonce', async () => {
    const path = `/channels/${builds}/messages`;
    discord.failNext({ status: 502, method: 'POST', path, afterApplying: true });
    const id = await client.send({ message: 'lost answer', channelId: builds });
    const view = await client.until(id, (candidate) => candidate.state === 'sent');

    expect(discord.requestCount({ method: 'POST', path, status: 502 })).toBe(1);
    expect(discord.requestCount({ method: 'POST', path, status: 200 })).toBeGreaterThanOrEqual(1);
    const shown = discord.messages(builds).filter((stored) => stored.message.content === 'lost answer');
    expect(shown.map((stored) => stored.message.id)).toEqual([view.messageId]);
  });

  it('names the outbox job of a parked notification, which POST /outbox/{id}/retry sends again', async () => {
    const hidden = await client.send({ message: 'parked, then retried', channelId: discord.channels.secret.id });
    await client.until(hidden, (view) => view.state === 'failed');
    const parked = (await client.get(hidden)).body as { jobs: { id: string; queue: string; state: string; attempts: number; lastError: string }[] };
    expect(parked.jobs).toEqual([
      expect.objectContaining({ queue: 'notify', state: 'parked', attempts: 1, lastError: expect.stringContaining('Missing Access') }),
    ]);

    const retry = await request(herald.url)
      .post(`/outbox/${parked.jobs[0].id}/retry`)
      .set({ Authorization: `Bearer ${herald.token}` });
    expect(retry.status).toBe(200);
    const retried = await eventually(async () => {
      const { jobs } = (await client.get(hidden)).body as typeof parked;
      return jobs.length === 2 && jobs[1].state === 'parked' ? jobs : undefined;
    });
    expect(retried.map((job) => job.state)).toEqual(['retried', 'parked']);
    expect(retried[1].id).toBe((retry.body as { job: { id: string } }).job.id);
  });

  it('a notification stored without its job (MongoDB went away between the two; the client was answered 503 naming it) is sent once the client asks for it', async () => {
    // The first of the two writes of an accept, as it stood when MongoDB went away before the second.
    const { notification } = await herald.app.get(NotificationStore).accept({ channelId: announcements, message: { content: 'stored, job lost' } });
    const id = notification._id.toHexString();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(texts(discord, announcements)).not.toContain('stored, job lost');

    const looked = (await client.get(id)).body as { jobs: { queue: string }[] };
    expect(looked.jobs).toEqual([expect.objectContaining({ queue: 'notify' })]);
    await client.until(id, (view) => view.state === 'sent');
    expect(texts(discord, announcements).filter((text) => text === 'stored, job lost')).toHaveLength(1);
  });

  it('after OUTBOX_RETENTION_HOURS forgets the finished jobs, not the notification: it still reads as sent and a PATCH still edits it', async () => {
    const outbox = herald.app.get(Outbox);
    const id = await client.send({ message: 'kept past retention', channelId: announcements });
    const sent = await client.until(id, (view) => view.state === 'sent');
    const jobs = async () => (await outbox.list(NOTIFY_QUEUE, { payload: { notificationId: id } }, { order: 'oldest', limit: 10 })).items;
    expect(await jobs()).toHaveLength(1);

    // The sweep as it runs every 10 minutes, at a moment the job finished longer ago than the retention (72 h), and
    // again an hour later: a short lane whose jobs all finished goes with its marks, in two phases an hour apart.
    const past = Date.now() + herald.config.outbox.retentionMs + 60_000;
    const swept = (await outbox.sweep(new Date(past))) + (await outbox.sweep(new Date(past + LANE_SWEEP_GRACE_MS + 60_000)));
    expect(swept).toBeGreaterThan(0);
    expect(await jobs()).toHaveLength(0);
    expect(await client.view(id)).toMatchObject({ state: 'sent', messageId: sent.messageId });

    expect((await client.patch(id, { message: 'edited after the sweep' })).status).toBe(202);
    await client.until(id, (view) => view.pending === null);
    expect(discord.message(announcements, sent.messageId!)!.message.content).toBe('edited after the sweep');
  });

  it('uses the default channel, colours by severity, edits with PATCH and deletes with DELETE', async () => {
    const id = await client.send({ message: 'deploy started', severity: 'info', username: 'deploy-bot' });
    const sent = await client.until(id, (view) => view.state === 'sent');
    expect(sent.channelId).toBe(general);
    const posted = discord.message(general, sent.messageId!)!.message;
    expect(posted.embeds[0]).toMatchObject({ description: 'deploy started', color: 0x5865f2, author: { name: 'deploy-bot' } });

    const patched = await client.patch(id, {
      embeds: [{ title: 'deploy finished', fields: [{ name: 'took', value: '4 min' }] }],
      severity: 'success',
    });
    expect(patched.status).toBe(202);
    await client.until(id, (view) => view.pending === null);
    const edited = discord.message(general, sent.messageId!)!;
    expect(edited.message.content).toBe('');
    expect(edited.message.embeds).toEqual([expect.objectContaining({ title: 'deploy finished', color: 0x57f287 })]);

    const deleted = await client.delete(id);
    expect(deleted.status).toBe(202);
    expect((await client.until(id, (view) => view.state === 'deleted')).pending).toBeNull();
    expect(discord.messages(general).some((stored) => stored.message.id === sent.messageId)).toBe(false);

    expect((await client.patch(id, { message: 'too late' })).status).toBe(409);
  });

  it('sends the edited text of a queued notification and never sends a cancelled one', async () => {
    const path = `/channels/${announcements}/messages`;
    discord.failNext({ status: 503, times: 100_000, method: 'POST', path });

    const head = await client.send({ message: 'queue head', channelId: announcements });
    const edited = await client.send({ message: 'queue before edit', channelId: announcements });
    const cancelled = await client.send({ message: 'queue cancelled', channelId: announcements });
    await client.until(head, (view) => view.lastError?.status === 503);

    expect((await client.patch(edited, { message: 'queue after edit' })).status).toBe(202);
    const cancelledView = await client.delete(cancelled);
    expect(cancelledView.body).toMatchObject({ state: 'deleted', pending: null, messageId: null });

    discord.clearFailures();
    await client.send({ message: 'queue marker', channelId: announcements });
    expect(await waitForTexts(discord, announcements, 'queue ', 3)).toEqual(['queue head', 'queue after edit', 'queue marker']);
    expect((await client.view(edited)).state).toBe('sent');
  });

  describe('POST /notify?wait=true', () => {
    it("answers 200 with Discord's message id once Discord accepted it", async () => {
      const answer = await client.post({ message: 'waited for', channelId: builds }).query({ wait: 'true' });
      expect(answer.status).toBe(200);
      const posted = discord.messages(builds).find((stored) => stored.message.content === 'waited for');
      expect(posted).toBeDefined();
      expect(answer.body).toEqual({ id: expect.any(String), state: 'sent', messageId: posted!.message.id, channelId: builds });
      expect(answer.headers.location).toBe(`/notify/${answer.body.id}`);
    });

    it("answers 422 with Discord's error when Discord refuses, and still 202 without wait", async () => {
      const refused = await client.post({ message: 'refused', channelId: discord.channels.secret.id }).query({ wait: 'true' });
      expect(refused.status).toBe(422);
      expect(refused.body).toMatchObject({
        statusCode: 422,
        state: 'failed',
        message: expect.stringMatching(/^Discord refused the message: .*Missing Access/),
        discordError: { status: 403, code: 50001 },
      });
      expect((await client.view(refused.body.id)).state).toBe('failed');
      expect((await client.post({ message: 'not waited', channelId: builds })).status).toBe(202);
    });

    it('answers 400 naming wait when it is not a boolean', async () => {
      const answer = await client.post({ message: 'x', channelId: builds }).query({ wait: 'maybe' });
      expect(answer.status).toBe(400);
      expect(JSON.stringify(answer.body)).toContain('wait must be true or false');
    });
  });

  it('answers 404 for a notification it does not know', async () => {
    expect((await client.get('665f1c2e8b3e4a0012345678')).status).toBe(404);
    expect((await client.get('not-an-id')).status).toBe(404);
    expect((await client.patch('665f1c2e8b3e4a0012345678', { message: 'x' })).status).toBe(404);
    expect((await client.delete('665f1c2e8b3e4a0012345678')).status).toBe(404);
  });
});
