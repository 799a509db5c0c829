import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { eventually } from '../support/app';
import { metric } from '../support/metrics';
import { startBotWorld, type BotWorld } from './discord-support';

jest.setTimeout(240_000);

describe('Backend callbacks while the backend is down', () => {
  let world: BotWorld;

  beforeAll(async () => {
    world = await startBotWorld();
  });

  afterAll(async () => {
    await world?.close();
  });

  it('delivers every callback once, in order per message, after the backend comes back', async () => {
    const { discord, backend } = world;
    const general = discord.channels.general;
    const authors = [discord.users.alice, discord.users.bob, discord.users.carol];
    await backend.down('refuse-connections');

    const sent = Array.from({ length: 20 }, (_, index) =>
      discord.messageCreate({ channelId: general.id, author: authors[index % authors.length], content: `status report ${index + 1}` }),
    );
    // Five of them are edited once their first image is stored, so `updated` queues up behind `created`.
    const edited = sent.slice(0, 5);
    for (const message of edited) {
      const key = `discord/${discord.guild.id}/${general.id}/${message.id}.png`;
      await eventually(() => world.storage().exists(key), 60_000);
      discord.messageUpdate(general.id, message.id, { content: `${message.content} (corrected)` });
    }
    await backend.up();
    await backend.waitUntil(() => backend.accepted.length >= 25, '25 callbacks', 120_000);
    // Give stray duplicates a chance to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 2000));

    for (const message of sent) {
      const events = backend.callbacks({ messageId: message.id }).map((callback) => callback.event);
      expect({ messageId: message.id, events }).toEqual({
        messageId: message.id,
        events: edited.includes(message) ? ['created', 'updated'] : ['created'],
      });
    }
    const keys = backend.accepted.map((received) => received.body.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(backend.accepted.every((received) => received.headers['idempotency-key'] === received.body.idempotencyKey)).toBe(true);
  });

  it("keeps a message's callbacks in order when its first is queued and the backend takes the others at once", async () => {
    const { discord, backend } = world;
    const general = discord.channels.general;
    const url = world.herald.url;
    const refusedBefore = backend.refused;
    backend.refuse({ event: 'created' });
    const first = discord.messageCreate({ channelId: general.id, author: discord.users.alice, content: 'deploy to staging finished' });
    // Its callback, tried from the image job, is refused: it waits in the outbox. Its retries now get no answer.
    await backend.waitUntil(() => backend.refused > refusedBefore, "the first message's created callback refused");
    backend.hold({ messageId: first.id, event: 'created' });
    backend.refuse(null);
    // Another message's callback goes through, so the backend counts as up again.
    await world.post({ author: discord.users.bob, content: 'tests are green' });
    const failedBefore = await metric(url, 'herald_discord_backend_callbacks_total', { outcome: 'failed' });
    const rendersBefore = await metric(url, 'herald_discord_image_work_total', { work: 'render', outcome: 'ok' });

    discord.messageUpdate(general.id, first.id, { content: 'deploy to production finished' });
    await eventually(async () => (await metric(url, 'herald_discord_image_work_total', { work: 'render', outcome: 'ok' })) > rendersBefore, 60_000);
    // The edit was drawn while the last delivery had succeeded: only the message's queued callback kept its own waiting.
    expect(await metric(url, 'herald_discord_backend_callbacks_total', { outcome: 'failed' })).toBe(failedBefore);
    expect(backend.callbacks({ messageId: first.id })).toEqual([]);

    backend.release();
    await backend.waitUntil(() => backend.callbacks({ messageId: first.id }).length >= 2, "the first message's two callbacks", 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(backend.callbacks({ messageId: first.id }).map((callback) => callback.event)).toEqual(['created', 'updated']);
  });

  it('draws the next messages while a callback gets no answer, instead of each waiting for its own timeout', async () => {
    const { discord, backend } = world;
    const general = discord.channels.general;
    const url = world.herald.url;
    const imagesDone = () => metric(url, 'herald_outbox_attempts_total', { queue: 'discord-images', outcome: 'done' });
    const callsFailed = () => metric(url, 'herald_discord_backend_callbacks_total', { outcome: 'failed' });
    // The backend takes connections and answers nothing (Herald gives up on a call after 10 s).
    backend.hold({});
    const heldBefore = backend.held.length;
    const failedBefore = await callsFailed();
    const first = discord.messageCreate({ channelId: general.id, author: discord.users.alice, content: 'nightly backup started' });
    await backend.waitUntil(() => backend.held.length > heldBefore, "the first message's callback, unanswered");
    // Longer than a well backend ever takes: the next image jobs leave their callbacks to the outbox and finish.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const doneBefore = await imagesDone();
    const next = ['backup 40% done', 'backup 80% done', 'backup finished'].map((content) =>
      discord.messageCreate({ channelId: general.id, author: discord.users.bob, content }),
    );
    await eventually(async () => (await imagesDone()) >= doneBefore + next.length, 60_000);
    // All three finished before Herald gave up on any call (the first one's included), not after their own timeouts.
    expect(await callsFailed()).toBe(failedBefore);

    backend.release();
    for (const message of [first, ...next]) await backend.waitFor({ messageId: message.id, event: 'created' }, 120_000);
  });

  it("retries a callback the backend refuses Herald's token for, saying which setting, and delivers it once the token is right", async () => {
    const { discord, backend, herald } = world;
    backend.refuse({ event: 'created' }, 401);
    const sent = discord.messageCreate({ channelId: discord.channels.general.id, author: discord.users.carol, content: 'token rotation test' });
    // The job carrying it: its lastError is the reason the retry's warning logs.
    const jobs = herald.app.get<Connection>(getConnectionToken()).collection('outbox_jobs');
    const waiting = await eventually(() => jobs.findOne({ lane: `backend:discord:${sent.id}`, lastError: { $ne: null } }), 60_000, 250);
    expect(waiting).toMatchObject({
      state: 'queued',
      lastError:
        "backend answered HTTP 401 (it refused Herald's token: BACKEND_TOKEN (SYSTEM_TOKEN when unset) must be the one it expects; retried until it is)",
    });
    backend.refuse(null);
    await backend.waitFor({ messageId: sent.id, event: 'created' }, 60_000);
  });

  it('parks a callback the backend refuses for good after its one call, and delivers it once sent again', async () => {
    const { discord, backend, herald } = world;
    const auth = { authorization: `Bearer ${herald.token}` };
    // A 422: the backend will never take it as it is, so calling again changes nothing.
    backend.refuse({ event: 'created' }, 422);
    const refused = discord.messageCreate({ channelId: discord.channels.general.id, author: discord.users.carol, content: 'release notes v2.4' });
    await backend.waitUntil(() => backend.refusedCallbacks.some((callback) => callback.messageId === refused.id), 'the refusal');
    backend.refuse(null);

    const parked = await world.parkedJob('backend', `backend:discord:${refused.id}`);
    expect(parked.lastError).toContain('the backend refused the created callback');
    expect(parked.lastError).toContain('422');
    // Told once: by the image job. The outbox job that carries it was parked without calling again.
    expect(backend.refusedCallbacks.filter((callback) => callback.messageId === refused.id)).toHaveLength(1);
    expect(backend.callbacks({ messageId: refused.id })).toEqual([]);

    const retried = await request(herald.url).post(`/outbox/${parked.id}/retry`).set(auth);
    expect(retried.status).toBe(200);
    const created = await backend.waitFor({ messageId: refused.id, event: 'created' });
    expect(created.idempotencyKey).toBe(`discord:${refused.id}:created:1`);
    expect(backend.refusedCallbacks.filter((callback) => callback.messageId === refused.id)).toHaveLength(1);
  });
});
