import type { VkDeliveriesPageDto } from '../../src/vk/vk.dto';
import { VkStandIn } from '../stand-ins/vk/vk-stand-in';
import { chatPeer, messageNew } from '../stand-ins/vk/vk-updates';
import type { VkUpdate } from '../../src/vk/vk-wire';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { startRedis, type ManagedServer } from '../support/servers';
import { VK_USERS, getJson, requireVmModules, vkEnv } from './vk-support';
import { readStream, redisClient, type RedisClient, type StreamEntry } from './vk-redis-support';

jest.setTimeout(240_000);

const PEERS = [chatPeer(31), chatPeer(32), chatPeer(33)];

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
  const message = (n: number): VkUpdate => messageNew({ peerId: PEERS[n % PEERS.length], fromId: 1001, text: `line ${n}`, cmid: ++cmid });
  const withRedis = async <T>(use: (redis: RedisClient) => Promise<T>): Promise<T> => {
    const redis = await redisClient(server.url);
    try {
      return await use(redis);
    } finally {
      redis.destroy();
    }
  };
  const streamed = (): Promise<StreamEntry[]> => withRedis((redis) => readStream(redis, 'message'));

  beforeAll(async () => {
    requireVmModules();
    // A Redis of our own: this suite stops and starts it. It keeps an append-only file, as Redis holding streams should.
    server = await startRedis();
    vk = await VkStandIn.start({ users: VK_USERS });
    herald = await bootHerald(vkEnv(vk, { VK_DEFAULT_DESTINATION: 'redis-stream', REDIS_URL: server.url }));
    await eventually(() => vk.heldPolls === 1, 30_000);
  });

  afterAll(async () => {
    await herald?.close();
    await vk?.close();
    await server?.destroy();
  });

  it("loses nothing: the outbox retries until Redis is back, and each peer's events stay in order", async () => {
    const before = Array.from({ length: 40 }, (_, n) => message(n));
    vk.push(...before);
    // Stop Redis while the first burst is still being written.
    await eventually(async () => (await streamed()).length > 0, 60_000);
    await server.stop();

    const during = Array.from({ length: 20 }, (_, n) => message(100 + n));
    vk.push(...during);
    // Each peer's oldest undelivered event fails and is retried; the rest of its lane waits behind it.
    const failed = await eventually(async () => {
      const page = await deliveries('status=failed');
      return page.items.length > 0 && page.counts.failed + page.counts.pending >= during.length ? page : undefined;
    }, 60_000);
    for (const delivery of failed.items) {
      expect(delivery).toMatchObject({ destination: 'stream:message', status: 'failed', parked: false });
      expect(delivery.lastError).toMatch(/^Redis stream message: /);
    }
    const ready = await getJson<{ info?: Record<string, { status: string; degraded?: boolean; message?: string }> }>(`${herald.url}/health/ready`);
    expect(ready.body.info?.redis).toMatchObject({ status: 'up', degraded: true });

    await server.start();
    const after = Array.from({ length: 10 }, (_, n) => message(200 + n));
    vk.push(...after);

    const all = [...before, ...during, ...after];
    const entries = await eventually(async () => {
      const read = await streamed();
      const ids = new Set(read.map((entry) => entry.event_id));
      return all.every((update) => ids.has(update.event_id)) ? read : undefined;
    }, 120_000);
    await eventually(
      async () => (await deliveries('status=failed')).counts.failed === 0 && (await deliveries('status=pending')).counts.pending === 0,
    );

    // Delivery is at least once (an XADD cut off by the stop may be sent again): consumers drop repeats by event_id.
    const firstSeen: StreamEntry[] = [];
    const seen = new Set<string>();
    for (const entry of entries) {
      if (seen.has(entry.event_id)) continue;
      seen.add(entry.event_id);
      firstSeen.push(entry);
    }
    expect(firstSeen).toHaveLength(all.length);
    for (const peer of PEERS) {
      const sent = all.filter((update) => (update.object as { message: { peer_id: number } }).message.peer_id === peer).map((u) => u.event_id);
      expect(firstSeen.filter((entry) => entry.event.peer.bpid === peer).map((entry) => entry.event_id)).toEqual(sent);
    }
  });
});
