import type { VkEvent } from '../../src/vk/vk-event';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { HttpReceiver } from '../stand-ins/http-receiver/http-receiver';
import { VkStandIn } from '../stand-ins/vk/vk-stand-in';
import { callbackButton, messageEdit, messageNew, reaction, typingState } from '../stand-ins/vk/vk-updates';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { requireEnv } from '../support/servers';
import {
  MODERATORS_CHAT,
  OFFTOPIC_CHAT,
  QueueTap,
  VK_CONVERSATIONS,
  VK_USERS,
  getJson,
  postJson,
  requireVmModules,
  vkEnv,
  writeRoutesFile,
} from './vk-support';

jest.setTimeout(120_000);

const SIGNING_SECRET = 'vk-webhook-signing-secret-0123456789';
const QUEUES = ['command', 'message', 'button', 'reaction'];

const IVAN = { uuid: 1001, name: 'Ivan Petrov', firstname: 'Ivan', lastname: 'Petrov', nick: 'ipetrov' };
const ANNA = { uuid: 1002, name: 'Anna Smirnova', firstname: 'Anna', lastname: 'Smirnova', nick: 'anna.s' };
const MODERATORS = { bpid: MODERATORS_CHAT, cid: 1, name: 'Moderators' };

describe('VK events → normalised, routed to RabbitMQ queues, a signed webhook and a Discord bridge', () => {
  let vk: VkStandIn;
  let receiver: HttpReceiver;
  let discord: DiscordStandIn;
  let tap: QueueTap;
  let herald: HeraldUnderTest;
  let bridgeChannel: string;
  let cmid = 100;

  beforeAll(async () => {
    requireVmModules();
    vk = await VkStandIn.start({ users: VK_USERS, conversations: VK_CONVERSATIONS });
    receiver = await HttpReceiver.start(SIGNING_SECRET);
    discord = await startDiscordStandIn();
    bridgeChannel = discord.channels.general.id;
    tap = await QueueTap.open(requireEnv('TEST_AMQP_URL'), QUEUES);
    const routesFile = writeRoutesFile({
      destinations: {
        'moderation-hook': { type: 'http', url: receiver.url('/vk-events?source=herald') },
        'ban-bridge': { type: 'discord', channelId: bridgeChannel },
      },
      routes: [
        { name: 'interactive to the moderation service', event_type: ['command', 'button', 'reaction', 'message_edit'], to: 'moderation-hook' },
        { name: 'bans in the moderators chat to Discord', event_type: 'command', commands: ['ban'], peers: [MODERATORS_CHAT], to: ['ban-bridge'] },
      ],
    });
    herald = await bootHerald(
      vkEnv(vk, {
        AMQP_URL: requireEnv('TEST_AMQP_URL'),
        VK_ROUTES_FILE: routesFile,
        VK_HTTP_SIGNING_SECRET: SIGNING_SECRET,
        DISCORD_TOKEN: discord.token,
        DISCORD_API_URL: discord.apiUrl,
      }),
    );
    // The poller is up once it holds a long-poll request open.
    await eventually(() => vk.heldPolls === 1, 30_000);
  });

  afterAll(async () => {
    await herald?.close();
    await tap?.close();
    await vk?.close();
    await receiver?.close();
    await discord?.stop();
  });

  const nextCmid = () => ++cmid;
  const hookGot = (eventId: string) => receiver.accepted.filter((r) => (r.body as VkEvent).event_id === eventId);

  it('puts "/ban @x" as a command Event in the command queue, the webhook and the Discord bridge', async () => {
    const update = messageNew({
      peerId: MODERATORS_CHAT,
      fromId: 1001,
      text: '/ban @x',
      cmid: nextCmid(),
      reply: { conversation_message_id: 99, from_id: 1002, text: 'spam spam spam', date: 1, peer_id: MODERATORS_CHAT, id: 0 },
      attachments: [{ type: 'photo', photo: { id: 456, owner_id: 123, album_id: -3, sizes: [] } }],
    });
    vk.push(update);

    const queued = await tap.waitFor(update.event_id, 'command');
    const expected: VkEvent = {
      event_id: update.event_id,
      event_type: 'command',
      peer: MODERATORS,
      user: IVAN,
      message: {
        cmid,
        text: '/ban @x',
        reply: { uuid: 1002, cmid: 99, text: 'spam spam spam' },
        forward: [],
        forward_other: [],
        attachments: ['photo', 'reply'],
        attachment_refs: ['photo123_456'],
      },
    };
    expect(queued.event).toEqual(expected);
    expect(queued).toMatchObject({ messageId: update.event_id, type: 'command', persistent: true, contentType: 'application/json' });

    const [hooked] = await eventually(() => hookGot(update.event_id).length > 0 && hookGot(update.event_id));
    expect(hooked.signatureValid).toBe(true);
    expect(hooked.path).toBe('/vk-events?source=herald');
    expect(hooked.body).toEqual(expected);
    expect(hooked.headers['x-herald-event-type']).toBe('command');

    const bridged = await discord.waitFor(() => discord.messages(bridgeChannel).find((m) => m.message.content.includes('/ban @x')));
    expect(bridged.message.content).toBe('**VK · Moderators** · Ivan Petrov: /ban @x [+1 attachment]');
    expect(tap.of('message').some((event) => event.event_id === update.event_id)).toBe(false);
    expect([...vk.versions]).toEqual(['5.199']);
  });

  it('sends a plain message to the message queue only', async () => {
    const update = messageNew({ peerId: OFFTOPIC_CHAT, fromId: 1002, text: 'hello & <welcome>', cmid: nextCmid() });
    vk.push(update);

    const queued = await tap.waitFor(update.event_id, 'message');
    expect(queued.event).toEqual({
      event_id: update.event_id,
      event_type: 'message',
      peer: { bpid: OFFTOPIC_CHAT, cid: 2, name: 'Off-topic' },
      user: ANNA,
      message: { cmid, text: 'hello & <welcome>', reply: null, forward: [], forward_other: [], attachments: [], attachment_refs: [] },
    });
    // A later command reaches the webhook; the message routed nowhere but its queue must not be there before it.
    const marker = messageNew({ peerId: OFFTOPIC_CHAT, fromId: 1002, text: '!ping', cmid: nextCmid() });
    vk.push(marker);
    await eventually(() => hookGot(marker.event_id).length > 0);
    expect(hookGot(update.event_id)).toHaveLength(0);
    expect(discord.messages(bridgeChannel).some((m) => m.message.content.includes('!ping'))).toBe(false);
  });

  it('turns a callback button into a button Event', async () => {
    const update = callbackButton({
      peerId: MODERATORS_CHAT,
      userId: 1002,
      cmid: 41,
      payload: { action: 'approve', ticket: 17 },
      callbackId: 'a1b2c3d4e5f6',
    });
    vk.push(update);

    const queued = await tap.waitFor(update.event_id, 'button');
    const expected: VkEvent = {
      event_id: update.event_id,
      event_type: 'button',
      peer: MODERATORS,
      user: ANNA,
      button: { cmid: 41, beid: 'a1b2c3d4e5f6', payload: { action: 'approve', ticket: 17 } },
    };
    expect(queued.event).toEqual(expected);
    const [hooked] = await eventually(() => hookGot(update.event_id).length > 0 && hookGot(update.event_id));
    expect(hooked.signatureValid).toBe(true);
    expect(hooked.body).toEqual(expected);
  });

  it('turns a reaction into a reaction Event', async () => {
    const update = reaction({ peerId: MODERATORS_CHAT, userId: 1001, cmid: 41, reactionId: 3 });
    vk.push(update);

    const queued = await tap.waitFor(update.event_id, 'reaction');
    const expected: VkEvent = {
      event_id: update.event_id,
      event_type: 'reaction',
      peer: MODERATORS,
      user: IVAN,
      reaction: { cmid: 41, rid: 3 },
    };
    expect(queued.event).toEqual(expected);
    const [hooked] = await eventually(() => hookGot(update.event_id).length > 0 && hookGot(update.event_id));
    expect(hooked.signatureValid).toBe(true);
    expect(hooked.body).toEqual(expected);
  });

  it('reads message_edit from its object and routes it where the routes file says', async () => {
    const update = messageEdit({ peerId: MODERATORS_CHAT, fromId: 1001, text: '/ban @y', cmid: 41 });
    vk.push(update);

    const [hooked] = await eventually(() => hookGot(update.event_id).length > 0 && hookGot(update.event_id));
    expect(hooked.body).toEqual({
      event_id: update.event_id,
      event_type: 'message_edit',
      peer: MODERATORS,
      user: IVAN,
      message: { cmid: 41, text: '/ban @y', reply: null, forward: [], forward_other: [], attachments: [], attachment_refs: [] },
    });
    expect(tap.find(update.event_id)).toBeUndefined();
  });

  it('skips update types it does not route and delivers an update VK repeats only once', async () => {
    const typing = typingState(1001);
    const repeated = messageNew({ peerId: MODERATORS_CHAT, fromId: 1002, text: '/warn 1003', cmid: nextCmid() });
    vk.push(typing, repeated);
    await tap.waitFor(repeated.event_id, 'command');
    vk.push(repeated); // the same event_id again, in a later batch
    const marker = messageNew({ peerId: MODERATORS_CHAT, fromId: 1002, text: '/warn 1001', cmid: nextCmid() });
    vk.push(marker);
    await tap.waitFor(marker.event_id, 'command');
    await eventually(() => hookGot(marker.event_id).length > 0);

    expect(tap.messages.filter((m) => m.event.event_id === repeated.event_id)).toHaveLength(1);
    expect(hookGot(repeated.event_id)).toHaveLength(1);
    expect(tap.find(typing.event_id)).toBeUndefined();
    expect(receiver.all.some((r) => (r.body as VkEvent).event_id === typing.event_id)).toBe(false);
  });

  it('asks VK for each name once: batched users.get and getConversationsById, then the cache', async () => {
    const burst = Array.from({ length: 30 }, (_, i) =>
      messageNew({ peerId: i % 2 ? MODERATORS_CHAT : OFFTOPIC_CHAT, fromId: i % 2 ? 1001 : 1002, text: `chatter ${i}`, cmid: nextCmid() }),
    );
    vk.push(...burst);
    for (const update of burst) await tap.waitFor(update.event_id, 'message');

    const asked = vk.userLookups.flat();
    expect(asked.filter((id) => id === 1001)).toHaveLength(1);
    expect(asked.filter((id) => id === 1002)).toHaveLength(1);
    expect(vk.callsOf('messages.getConversationsById')).toBeLessThanOrEqual(2);
    expect(
      tap
        .of('message')
        .filter((e) => e.message?.text.startsWith('chatter '))
        .every((e) => e.user.name !== `id${e.user.uuid}`),
    ).toBe(true);
  });

  it('shows the routes in force at GET /vk/routes, without the webhook secret, to the system token only', async () => {
    const unauthorised = await getJson(`${herald.url}/vk/routes`);
    expect(unauthorised.status).toBe(401);

    const { status, body } = await getJson<{ source: string; destinations: { name: string; type: string }[]; routes: { to: string[] }[] }>(
      `${herald.url}/vk/routes`,
      herald.token,
    );
    expect(status).toBe(200);
    expect(body.destinations).toEqual(
      expect.arrayContaining([
        { name: 'queue:command', type: 'amqp', queue: 'command' },
        { name: 'queue:reaction', type: 'amqp', queue: 'reaction' },
        { name: 'moderation-hook', type: 'http', url: receiver.url('/vk-events'), signed: true },
        { name: 'ban-bridge', type: 'discord', channelId: bridgeChannel },
      ]),
    );
    expect(body.routes.map((route) => route.to)).toEqual(
      expect.arrayContaining([['queue:command'], ['queue:message'], ['moderation-hook'], ['ban-bridge']]),
    );
    expect(JSON.stringify(body)).not.toContain(SIGNING_SECRET);
  });

  describe('long-poll failures', () => {
    const lastPollAfter = (index: number) => vk.polls.slice(index).find((poll) => poll.answer !== 'dropped' && !poll.answer.startsWith('failed'));

    it('failed:1 → continues from the ts VK gives, with the same key, nothing lost or repeated', async () => {
      const keysBefore = vk.callsOf('groups.getLongPollServer');
      vk.failNextPoll(1);
      const updates = [1, 2, 3].map((n) => messageNew({ peerId: MODERATORS_CHAT, fromId: 1001, text: `after failed 1 #${n}`, cmid: nextCmid() }));
      await eventually(() => vk.polls.some((poll) => poll.answer === 'failed:1'));
      vk.push(...updates);

      for (const update of updates) await tap.waitFor(update.event_id, 'message');
      expect(updates.map((u) => tap.messages.filter((m) => m.event.event_id === u.event_id).length)).toEqual([1, 1, 1]);
      expect(vk.callsOf('groups.getLongPollServer')).toBe(keysBefore);
    });

    it('failed:2 → a new key and the same ts, so updates queued meanwhile are not skipped', async () => {
      const keysBefore = vk.callsOf('groups.getLongPollServer');
      // These land in VK's history before the key expires; taking the new ts from getLongPollServer would skip them.
      const queuedMeanwhile = [1, 2, 3].map((n) =>
        messageNew({ peerId: OFFTOPIC_CHAT, fromId: 1002, text: `queued during failed 2 #${n}`, cmid: nextCmid() }),
      );
      vk.failNextPoll(2, queuedMeanwhile);

      for (const update of queuedMeanwhile) await tap.waitFor(update.event_id, 'message');
      const failedAt = vk.polls.findIndex((poll) => poll.answer === 'failed:2');
      const failedPoll = vk.polls[failedAt];
      const nextPoll = lastPollAfter(failedAt + 1);
      expect(nextPoll?.ts).toBe(failedPoll?.ts);
      expect(nextPoll?.key).not.toBe(failedPoll?.key);
      expect(vk.callsOf('groups.getLongPollServer')).toBe(keysBefore + 1);
      expect(queuedMeanwhile.map((u) => tap.messages.filter((m) => m.event.event_id === u.event_id).length)).toEqual([1, 1, 1]);
    });

    it('failed:3 → a new key and the ts VK hands out with it, nothing repeated', async () => {
      const keysBefore = vk.callsOf('groups.getLongPollServer');
      vk.failNextPoll(3);
      await eventually(() => vk.callsOf('groups.getLongPollServer') === keysBefore + 1 && vk.heldPolls === 1);
      const handedOutTs = vk.currentTs;
      const after = [1, 2].map((n) => messageNew({ peerId: MODERATORS_CHAT, fromId: 1001, text: `after failed 3 #${n}`, cmid: nextCmid() }));
      vk.push(...after);

      for (const update of after) await tap.waitFor(update.event_id, 'message');
      const failedAt = vk.polls.findIndex((poll) => poll.answer === 'failed:3');
      expect(failedAt).toBeGreaterThanOrEqual(0);
      expect(lastPollAfter(failedAt + 1)?.ts).toBe(handedOutTs);
      // Nothing from before failed:3 came again: every event read from the queues so far was read once.
      const reads = new Map<string, number>();
      for (const m of tap.messages) reads.set(m.event.event_id, (reads.get(m.event.event_id) ?? 0) + 1);
      expect([...reads.entries()].filter(([, count]) => count > 1)).toEqual([]);
    });

    it('backs off through VK errors 6, 9 and 10 and dropped connections, then goes on without loss', async () => {
      vk.failMethod('groups.getLongPollServer', 10, 1);
      vk.failMethod('groups.getLongPollServer', 9, 1);
      vk.failMethod('groups.getLongPollServer', 6, 1);
      vk.failMethod('users.get', 10, 1);
      vk.failNextPoll(2);
      const fromNewcomer = messageNew({ peerId: MODERATORS_CHAT, fromId: 1003, text: '/kick 1002', cmid: nextCmid() });
      vk.push(fromNewcomer);

      const queued = await tap.waitFor(fromNewcomer.event_id, 'command', 60_000);
      expect(queued.event.user).toEqual({ uuid: 1003, name: 'Oleg Sidorov', firstname: 'Oleg', lastname: 'Sidorov', nick: 'id1003' });

      vk.dropNextPolls(2);
      const afterDrops = messageNew({ peerId: MODERATORS_CHAT, fromId: 1003, text: '/kick 1001', cmid: nextCmid() });
      vk.push(afterDrops);
      await tap.waitFor(afterDrops.event_id, 'command', 60_000);
      expect(tap.messages.filter((m) => m.event.event_id === fromNewcomer.event_id)).toHaveLength(1);
      expect(tap.messages.filter((m) => m.event.event_id === afterDrops.event_id)).toHaveLength(1);
    });
  });

  it('parks an update it cannot read with its raw form and reason, and goes on with the rest of the batch', async () => {
    // A community whose Long Poll API version is older than 5.103 sends message_new with the message as the object.
    const modern = messageNew({ peerId: OFFTOPIC_CHAT, fromId: 1002, text: 'sent under API 5.92', cmid: nextCmid() });
    const old = { ...modern, v: '5.92', object: (modern.object as { message: unknown }).message } as unknown as typeof modern;
    const after = messageNew({ peerId: OFFTOPIC_CHAT, fromId: 1002, text: 'the next one', cmid: nextCmid() });
    vk.push(old, after);
    await tap.waitFor(after.event_id, 'message');

    type Parked = { parked: { id: string; queue: string; state: string; lastError: string | null; payload?: unknown }[] };
    const parked = await eventually(async () => {
      const list = await getJson<Parked>(`${herald.url}/outbox?queue=vk-unreadable`, herald.token);
      return list.body.parked.find((job) => job.lastError?.includes(old.event_id));
    }, 30_000);
    expect(parked.lastError).toMatch(new RegExp(`^VK update ${old.event_id} \\(message_new, API 5\\.92\\) could not be read: `));
    expect(tap.messages.some((m) => m.event.event_id === old.event_id)).toBe(false);

    // Read again on retry, with this version's code: still unreadable, so parked again with the same reason.
    const retried = await postJson<{ job: { id: string } }>(`${herald.url}/outbox/${parked.id}/retry`, herald.token);
    expect(retried.status).toBe(200);
    const again = await eventually(async () => {
      const list = await getJson<Parked>(`${herald.url}/outbox?queue=vk-unreadable`, herald.token);
      return list.body.parked.find((job) => job.id === retried.body.job.id);
    }, 30_000);
    expect(again.lastError).toBe(parked.lastError);
  });

  it("names the community's Long Poll API switch while it is off, and polls once it is on, without a restart", async () => {
    type Ready = { status: string; info?: Record<string, { status: string; degraded?: boolean; message?: string }> };
    const probe = () => getJson<Ready>(`${herald.url}/health/ready`);
    vk.switchLongPoll(false);
    const off = await eventually(async () => {
      const ready = await probe();
      return ready.body.info?.['vk-long-poll']?.degraded ? ready : undefined;
    }, 30_000);
    // Degraded, not unready: the HTTP API stays in rotation.
    expect(off.status).toBe(200);
    expect(off.body.info?.['vk-long-poll'].message).toContain(`VK's Long Poll API is off for community ${vk.groupId}`);
    expect(off.body.info?.['vk-long-poll'].message).toContain('Manage → API usage → Long Poll API: Enabled');

    // Up again as soon as VK hands out a key, not only once the first update arrives (a quiet community may send none).
    vk.switchLongPoll(true);
    await eventually(async () => (await probe()).body.info?.['vk-long-poll']?.degraded === undefined, 30_000);
    expect((await probe()).body.info?.['vk-long-poll']).toEqual({ status: 'up' });
    const update = messageNew({ peerId: OFFTOPIC_CHAT, fromId: 1002, text: 'after the switch', cmid: nextCmid() });
    vk.push(update);
    await tap.waitFor(update.event_id, 'message');
  });

  it("stops polling on an auth error, once, and reports it at /health/ready as degraded (VK is every replica's: not out of rotation)", async () => {
    vk.revokeToken();
    const keysBefore = vk.callsOf('groups.getLongPollServer');
    vk.failNextPoll(2);

    const ready = await eventually(async () => {
      const probe = await getJson<{ status: string; info?: Record<string, { degraded?: boolean; message?: string }> }>(`${herald.url}/health/ready`);
      return probe.body.info?.vk?.degraded ? probe : undefined;
    }, 30_000);
    expect(ready.status).toBe(200);
    expect(ready.body.info?.vk.message).toContain('error 5');
    expect(vk.callsOf('groups.getLongPollServer')).toBe(keysBefore + 1);

    // Not a retry loop: a looping poller would have asked again within its first backoffs (0.5-2 s).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(vk.callsOf('groups.getLongPollServer')).toBe(keysBefore + 1);
    expect(vk.heldPolls).toBe(0);
  });
});
