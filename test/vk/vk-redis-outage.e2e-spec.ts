import type { VkDeliveriesPageDto } from '../../src/vk/vk.dto';
import { VkStandIn } from '../stand-ins/vk/vk-stand-in';
import { callbackButton, chatPeer, messageNew } from '../stand-ins/vk/vk-updates';
import type { VkUpdate } from '../../src/vk/vk-wire';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { startRedis, type ManagedServer } from '../support/servers';
import { VK_USERS, getJson, requireVmModules, vkEnv, writeRoutesFile } from './vk-support';
import { readStream, redisClient, type RedisClient, type StreamEntry } from './vk-redis-support';

jest.setTimeout(240_000);

const PEERS = [chatPeer(31), chatPeer(32), chatPeer(33)];
/** A routes-file destination that takes every type into one stream: one lane per peer across types. */
const FEED = 'toaster.feed';

describe('VK deliveries to Redis streams while Redis is stopped and started mid-stream', () => {
  let server: ManagedServer & { url: string };
  let vk: VkStandIn;
  let herald: HeraldUnderTest;
  let cmid = 0;

  const deliveries = async (query: string) => {
    const { status, body } = await getJson<VkDeliveriesPageDto>(`${herald.url}/vk/deliveries?${query}`, herald.token);
    expect(status).toBe(200);
    return body;
  };
  /** What each update was sent as: its peer and the event type it becomes. */
  const sentAs = new Map<string, { peer: number; type: string }>();
  /** A peer's traffic as the tester saw it: commands, messages and buttons mixed. */
  const update = (n: number): VkUpdate => {
    const peer = PEERS[n % PEERS.length];
    const type = ['message', 'command', 'button', 'message'][n % 4];
    const sent =
      type === 'button'
        ? callbackButton({ peerId: peer, userId: 1001, cmid, payload: { n } })
        : messageNew({ peerId: peer, fromId: 1001, text: type === 'command' ? `/c ${n}` : `line ${n}`, cmid: ++cmid });
    sentAs.set(sent.event_id, { peer, type });
    return sent;
  };
  const withRedis = async <T>(use: (redis: RedisClient) => Promise<T>): Promise<T> => {
    const redis = await redisClient(server.url);
    try {
      return await use(redis);
    } finally {
      redis.destroy();
    }
  };
  const streamed = (key = 'message'): Promise<StreamEntry[]> => withRedis((redis) => readStream(redis, key));

  beforeAll(async () => {
    requireVmModules();
    // A Redis of our own: this suite stops and starts it. It keeps an append-only file, as Redis holding streams should.
    server = await startRedis();
    vk = await VkStandIn.start({ users: VK_USERS });
    const routes = writeRoutesFile({
      destinations: { feed: { type: 'redis', mode: 'stream', channel: FEED } },
      routes: [{ event_type: ['command', 'message', 'button'], to: 'feed' }],
    });
    herald = await bootHerald(vkEnv(vk, { VK_DEFAULT_DESTINATION: 'redis-stream', REDIS_URL: server.url, VK_ROUTES_FILE: routes }));
    await eventually(() => vk.heldPolls === 1, 30_000);
  });

  afterAll(async () => {
    await herald?.close();
    await vk?.close();
    await server?.destroy();
  });

  it("loses nothing: the outbox retries until Redis is back, and each peer's events stay in order in each stream", async () => {
    const before = Array.from({ length: 40 }, (_, n) => update(n));
    vk.push(...before);
    // Stop Redis while the first burst is still being written.
    await eventually(async () => (await streamed()).length > 0, 60_000);
    await server.stop();

    const during = Array.from({ length: 20 }, (_, n) => update(100 + n));
    vk.push(...during);
    // Each peer's oldest undelivered event fails and is retried; the rest of its lane waits behind it.
    const failed = await eventually(async () => {
      const page = await deliveries('status=failed');
      return page.items.length > 0 && page.counts.failed + page.counts.pending >= 2 * during.length ? page : undefined;
    }, 60_000);
    for (const delivery of failed.items) {
      expect(delivery).toMatchObject({ status: 'failed', parked: false });
      const key = delivery.destination === 'feed' ? FEED : delivery.destination.replace(/^stream:/, '');
      expect(delivery.lastError).toMatch(new RegExp(`^Redis stream ${key.replace('.', '\\.')}: `));
    }
    const ready = await getJson<{ info?: Record<string, { status: string; degraded?: boolean; message?: string }> }>(`${herald.url}/health/ready`);
    expect(ready.body.info?.redis).toMatchObject({ status: 'up', degraded: true });

    await server.start();
    const after = Array.from({ length: 10 }, (_, n) => update(200 + n));
    vk.push(...after);

    const all = [...before, ...during, ...after];
    // Delivery is at least once (an XADD cut off by the stop may be sent again): consumers drop repeats by event_id.
    const firstSeenIn = async (key: string, expected: VkUpdate[]) => {
      const entries = await eventually(async () => {
        const read = await streamed(key);
        const ids = new Set(read.map((entry) => entry.event_id));
        return expected.every((sent) => ids.has(sent.event_id)) ? read : undefined;
      }, 120_000);
      const seen = new Set<string>();
      return entries.filter((entry) => !seen.has(entry.event_id) && seen.add(entry.event_id));
    };
    const ofType = (type: string) => all.filter((sent) => sentAs.get(sent.event_id)?.type === type);
    const inOrderPerPeer = (entries: StreamEntry[], expected: VkUpdate[]) => {
      expect(entries.map((entry) => entry.event_id).sort()).toEqual(expected.map((sent) => sent.event_id).sort());
      for (const peer of PEERS) {
        const sent = expected.filter((sent) => sentAs.get(sent.event_id)?.peer === peer).map((u) => u.event_id);
        expect(entries.filter((entry) => entry.event.peer.bpid === peer).map((entry) => entry.event_id)).toEqual(sent);
      }
    };

    // Each default stream (one per event type) keeps each peer's events of its type in order.
    for (const type of ['message', 'command', 'button']) inOrderPerPeer(await firstSeenIn(type, ofType(type)), ofType(type));
    // One destination that several types route to is one lane per peer: its stream keeps each peer's events in the
    // order VK sent them, across types.
    inOrderPerPeer(await firstSeenIn(FEED, all), all);
    await eventually(
      async () => (await deliveries('status=failed')).counts.failed === 0 && (await deliveries('status=pending')).counts.pending === 0,
    );
  });
});
