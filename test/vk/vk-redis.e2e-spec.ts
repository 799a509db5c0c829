import { randomBytes } from 'node:crypto';
import type { VkEvent, VkEventType } from '../../src/vk/vk-event';
import type { VkRoutingViewDto } from '../../src/vk/vk.dto';
import { VkStandIn } from '../stand-ins/vk/vk-stand-in';
import { callbackButton, messageNew, reaction } from '../stand-ins/vk/vk-updates';
import type { VkUpdate } from '../../src/vk/vk-wire';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { requireEnv } from '../support/servers';
import { MODERATORS_CHAT, OFFTOPIC_CHAT, VK_CONVERSATIONS, VK_USERS, getJson, requireVmModules, vkEnv, writeRoutesFile } from './vk-support';
import { ChannelTap, readStream, redisClient, toEntry, type RedisClient } from './vk-redis-support';

jest.setTimeout(180_000);

const TYPES: VkEventType[] = ['command', 'message', 'button', 'reaction'];
const PEERS = [MODERATORS_CHAT, OFFTOPIC_CHAT];

describe('VK events → Redis: pub/sub channels per event type (the default) and streams for consumer groups', () => {
  // A prefix of its own, so nothing else on the shared Redis reaches these channels and streams.
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  let vk: VkStandIn;
  let herald: HeraldUnderTest;
  let tap: ChannelTap;
  let redis: RedisClient;
  let cmid = 500;

  /** One update of the given event type, by someone in the peer. */
  const updateOf = (type: VkEventType, peerId: number, n: number): VkUpdate => {
    cmid += 1;
    switch (type) {
      case 'command':
        return messageNew({ peerId, fromId: 1001, text: `/warn ${n}`, cmid });
      case 'message':
        return messageNew({ peerId, fromId: 1002, text: `chat line ${n}`, cmid });
      case 'button':
        return callbackButton({ peerId, userId: 1002, cmid, payload: { n } });
      default:
        return reaction({ peerId, userId: 1001, cmid, reactionId: (n % 16) + 1 });
    }
  };

  beforeAll(async () => {
    requireVmModules();
    vk = await VkStandIn.start({ users: VK_USERS, conversations: VK_CONVERSATIONS });
    tap = await ChannelTap.open(
      requireEnv('TEST_REDIS_URL'),
      TYPES.map((type) => `${prefix}${type}`),
    );
    redis = await redisClient(requireEnv('TEST_REDIS_URL'));
    const routesFile = writeRoutesFile({
      destinations: { streams: { type: 'redis', mode: 'stream', maxLen: 10_000 } },
      routes: [{ name: 'every event also to a stream of its type', event_type: TYPES, to: 'streams' }],
    });
    herald = await bootHerald(
      vkEnv(vk, { VK_DEFAULT_DESTINATION: 'redis', REDIS_URL: requireEnv('TEST_REDIS_URL'), VK_REDIS_PREFIX: prefix, VK_ROUTES_FILE: routesFile }),
    );
    await eventually(() => vk.heldPolls === 1, 30_000);
  });

  afterAll(async () => {
    await herald?.close();
    await tap?.close();
    redis?.destroy();
    await vk?.close();
  });

  it('publishes command, message, button and reaction events on their channels, in order per peer', async () => {
    const pushed: { type: VkEventType; peer: number; update: VkUpdate }[] = [];
    for (let round = 0; round < 4; round += 1) {
      for (const type of TYPES) for (const peer of PEERS) pushed.push({ type, peer, update: updateOf(type, peer, round) });
    }
    vk.push(...pushed.map(({ update }) => update));

    await eventually(() => pushed.every(({ update }) => tap.find(update.event_id)), 60_000);
    for (const type of TYPES) {
      const received = tap.on(`${prefix}${type}`);
      expect(received.every((event) => event.event_type === type)).toBe(true);
      for (const peer of PEERS) {
        const sent = pushed.filter((p) => p.type === type && p.peer === peer).map((p) => p.update.event_id);
        expect(sent).toHaveLength(4);
        expect(received.filter((event) => event.peer.bpid === peer).map((event) => event.event_id)).toEqual(sent);
      }
    }
    // Each event once per channel; a repeat would be a second copy of the same event_id.
    expect(tap.messages).toHaveLength(pushed.length);
  });

  it("sends the Event JSON with the router's field meanings", async () => {
    const update = messageNew({
      peerId: MODERATORS_CHAT,
      fromId: 1001,
      text: '!',
      cmid: ++cmid,
      reply: { conversation_message_id: 7, from_id: 1002, text: 'who?', date: 1, peer_id: MODERATORS_CHAT, id: 0 },
      forwards: [
        { conversation_message_id: 3, from_id: 1003, text: 'earlier here', date: 1, peer_id: MODERATORS_CHAT },
        { from_id: 1003, text: 'from a private chat', date: 1 },
      ],
      attachments: [
        { type: 'photo', photo: { id: 456, owner_id: 123, album_id: -3, sizes: [] } },
        { type: 'doc', doc: { id: 9, owner_id: -5, title: 'a.pdf', access_key: 'k3y' } },
      ],
    });
    vk.push(update);

    const got = await eventually(() => tap.find(update.event_id));
    expect(got.channel).toBe(`${prefix}command`);
    expect(got.event).toEqual({
      event_id: update.event_id,
      event_type: 'command',
      peer: { bpid: MODERATORS_CHAT, cid: 1, name: 'Moderators' },
      user: { uuid: 1001, name: 'Ivan Petrov', firstname: 'Ivan', lastname: 'Petrov', nick: 'ipetrov' },
      message: {
        cmid,
        text: '!',
        reply: { uuid: 1002, cmid: 7, text: 'who?' },
        forward: [{ uuid: 1003, cmid: 3, text: 'earlier here' }],
        forward_other: [{ uuid: 1003, cmid: null, text: 'from a private chat' }],
        attachments: ['photo', 'doc', 'reply', 'forward'],
        attachment_refs: ['photo123_456', 'doc-5_9_k3y'],
      },
    } satisfies VkEvent);
  });

  it('keeps events in a stream while its consumer is away, and a consumer group reads each once', async () => {
    const stream = `${prefix}message`;
    // The consumer group exists (its consumers subscribed earlier) but nobody reads while these arrive.
    await redis.xGroupCreate(stream, 'moderation', '$', { MKSTREAM: true });
    const whileAway = Array.from({ length: 12 }, (_, n) => updateOf('message', PEERS[n % 2], 100 + n));
    vk.push(...whileAway);
    await eventually(async () => {
      const entries = await readStream(redis, stream);
      return whileAway.every((update) => entries.some((entry) => entry.event_id === update.event_id));
    }, 60_000);

    // Two consumers of the group come back and share the backlog: every event once, none twice.
    const read: { consumer: string; id: string; eventId: string; event: VkEvent }[] = [];
    for (let turn = 0; turn < 20; turn += 1) {
      const consumer = turn % 2 === 0 ? 'worker-a' : 'worker-b';
      const answer = await redis.xReadGroup('moderation', consumer, { key: stream, id: '>' }, { COUNT: 5 });
      const entries = (answer as { messages: { id: string; message: Record<string, string> }[] }[] | null)?.[0]?.messages ?? [];
      if (entries.length === 0) break;
      for (const { id, message } of entries) {
        const entry = toEntry(id, message);
        read.push({ consumer, id, eventId: entry.event_id, event: entry.event });
        await redis.xAck(stream, 'moderation', id);
      }
    }
    // Each once; in order per peer (peers are separate lanes, so two peers' events may interleave either way). An
    // earlier spec's message event may still reach the stream after the group was created: it is read too, once.
    expect(new Set(read.map((entry) => entry.eventId)).size).toBe(read.length);
    const awayIds = new Set(whileAway.map((update) => update.event_id));
    const ours = read.filter((entry) => awayIds.has(entry.eventId));
    expect(ours.map((entry) => entry.eventId).sort()).toEqual([...awayIds].sort());
    for (const peer of PEERS) {
      const sent = whileAway.filter((_, n) => PEERS[n % 2] === peer).map((update) => update.event_id);
      expect(ours.filter((entry) => entry.event.peer.bpid === peer).map((entry) => entry.eventId)).toEqual(sent);
    }
    expect(new Set(read.map((entry) => entry.consumer))).toEqual(new Set(['worker-a', 'worker-b']));
    expect(read.every((entry) => entry.event.event_id === entry.eventId && entry.event.event_type === 'message')).toBe(true);
    expect((await redis.xPending(stream, 'moderation')).pending).toBe(0);
    expect(await redis.xReadGroup('moderation', 'worker-a', { key: stream, id: '>' }, { COUNT: 100 })).toBeNull();
  });

  it('shows Redis destinations and the Event schema at GET /vk/routes, and checks Redis for readiness', async () => {
    const { status, body } = await getJson<VkRoutingViewDto>(`${herald.url}/vk/routes`, herald.token);
    expect(status).toBe(200);
    expect(body.defaultDestination).toBe('redis');
    expect(body.destinations).toEqual(
      expect.arrayContaining([
        {
          name: 'redis:command',
          type: 'redis',
          mode: 'publish',
          channel: `${prefix}command`,
          perEventType: true,
          channels: { command: `${prefix}command` },
        },
        {
          name: 'streams',
          type: 'redis',
          mode: 'stream',
          channel: `${prefix}<event_type>`,
          perEventType: true,
          channels: Object.fromEntries(TYPES.map((type) => [type, `${prefix}${type}`])),
          maxLen: 10_000,
        },
      ]),
    );
    expect(body.eventSchema.find((field) => field.field === 'message.attachments')?.meaning).toMatch(/geo, reply, forward/);

    const ready = await getJson<{ info?: Record<string, { status: string; degraded?: boolean }> }>(`${herald.url}/health/ready`);
    expect(ready.body.info?.redis).toEqual({ status: 'up' });
  });
});
