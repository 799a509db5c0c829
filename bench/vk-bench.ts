// Benchmark (not a test): VK normalise + route throughput with enrichment cached, beside what the VK stand-in
// alone can serve over the long poll; then events per second handed to each destination kind in the same run —
// RabbitMQ (publisher confirms), Redis PUBLISH and Redis XADD — through the sender the `vk` outbox handler calls,
// with 16 (destination, peer) lanes at once, each in order. Real servers, started here like the tests start them.
// Run with `npm run bench:vk` (optionally `-- --events 20000 --rounds 5 --deliveries 5000`). Writes bench/results/vk.json.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig, type AppConfig } from '../src/config/config';
import { DiscordRest } from '../src/discord-api/discord-rest';
import { ReadinessService } from '../src/health/readiness.service';
import { VkAmqpPublisher } from '../src/vk/vk-amqp.publisher';
import { VkApi } from '../src/vk/vk-api';
import { VkDeliverySender } from '../src/vk/vk-delivery.sender';
import { VkDirectory } from '../src/vk/vk-directory';
import type { VkEvent } from '../src/vk/vk-event';
import { VkRedisPublisher } from '../src/vk/vk-redis.publisher';
import { VkWebhookClient } from '../src/vk/vk-webhook.client';
import { DEFAULT_COMMAND_PREFIXES, namesNeeded, normaliseUpdate } from '../src/vk/vk-normaliser';
import { loadVkRouting, routeEvent } from '../src/vk/vk-routes';
import type { VkLongPollResponse, VkUpdate, VkUser, VkConversation } from '../src/vk/vk-wire';
import { VkStandIn } from '../test/stand-ins/vk/vk-stand-in';
import { callbackButton, chatPeer, messageNew, reaction } from '../test/stand-ins/vk/vk-updates';

const args = new Map<string, string>();
process.argv.slice(2).forEach((arg, i, all) => arg.startsWith('--') && args.set(arg.slice(2), all[i + 1] ?? ''));
const EVENTS = Number(args.get('events') ?? 20_000);
const ROUNDS = Number(args.get('rounds') ?? 5);
const DELIVERIES = Number(args.get('deliveries') ?? 5000);
const OUT = args.get('out') ?? join(process.cwd(), 'bench', 'results', 'vk.json');
const BATCH = 100; // updates per long-poll answer, about what a busy community sees
const LANES = 16; // (destination, peer) lanes worked at once, each in order
const PEERS = 50;
const USERS = 300;

const users: VkUser[] = Array.from({ length: USERS }, (_, i) => ({
  id: 10_000 + i,
  first_name: `First${i}`,
  last_name: `Last${i}`,
  screen_name: `user${i}`,
}));
const conversations: VkConversation[] = Array.from({ length: PEERS }, (_, i) => ({
  peer: { id: chatPeer(i + 1), type: 'chat', local_id: i + 1 },
  chat_settings: { title: `Chat ${i + 1}` },
}));

function stream(count: number): VkUpdate[] {
  return Array.from({ length: count }, (_, i) => {
    const peerId = chatPeer((i % PEERS) + 1);
    const user = users[(i * 7) % USERS].id;
    switch (i % 10) {
      case 0:
        return callbackButton({ peerId, userId: user, cmid: i, payload: { action: 'vote', option: i % 4 } });
      case 1:
        return reaction({ peerId, userId: user, cmid: i, reactionId: (i % 16) + 1 });
      case 2:
      case 3:
        return messageNew({ peerId, fromId: user, cmid: i, text: `/ban @user${i % USERS} spamming links` });
      default:
        return messageNew({
          peerId,
          fromId: user,
          cmid: i,
          text: `message number ${i} with some ordinary chat text &amp; an entity`,
          attachments: i % 5 === 0 ? [{ type: 'photo', photo: { id: i, owner_id: user, access_key: 'k' } }] : [],
          reply: i % 3 === 0 ? { conversation_message_id: i - 1, from_id: user, text: 'quoted' } : undefined,
        });
    }
  });
}

interface ServerHandle {
  url: string;
  destroy(): Promise<void>;
}
// The provisioning script the tests use: Debian's rabbitmq-server and redis-server on free loopback ports.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const servers = require('../scripts/servers.cjs') as {
  ensureInstalled(options?: { rabbitmq?: boolean }): unknown;
  startRabbitMq(): Promise<ServerHandle>;
  startRedis(): Promise<ServerHandle>;
};

/** The destinations the delivery rounds compare: one per kind, each named after the event type. */
const DESTINATION_KINDS = [
  { key: 'rabbitmqConfirmed', label: 'RabbitMQ queue (persistent, publisher confirms)', destination: (type: string) => `queue:${type}` },
  { key: 'redisPublish', label: 'Redis PUBLISH on a channel', destination: (type: string) => `redis:${type}` },
  { key: 'redisStreamXadd', label: 'Redis XADD MAXLEN ~ to a stream', destination: (type: string) => `stream:${type}` },
] as const;

/**
 * Hands every event to one destination kind as the outbox runs the `vk` jobs: a lane per peer, each lane in order, LANES lanes
 * at once. Returns events per second.
 */
async function deliverAll(sender: VkDeliverySender, destinationOf: (type: string) => string, events: VkEvent[]): Promise<number> {
  const lanes = new Map<number, VkEvent[]>();
  for (const event of events) lanes.set(event.peer.bpid, [...(lanes.get(event.peer.bpid) ?? []), event]);
  const work = [...lanes.values()].values();
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      for (const lane of work) {
        for (const event of lane) await sender.send(destinationOf(event.event_type), event, event.event_id);
      }
    }),
  );
  return events.length / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function waitUntil(probe: () => Promise<unknown>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await probe();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  servers.ensureInstalled();
  const [rabbit, redis] = await Promise.all([servers.startRabbitMq(), servers.startRedis()]);
  try {
    await run(rabbit, redis);
  } finally {
    await Promise.all([rabbit.destroy(), redis.destroy()]);
  }
}

async function run(rabbit: ServerHandle, redis: ServerHandle): Promise<void> {
  const vk = await VkStandIn.start({ users, conversations, batchLimit: BATCH });
  const routesDir = mkdtempSync(join(tmpdir(), 'herald-bench-vk-'));
  const routesFile = join(routesDir, 'routes.yaml');
  writeFileSync(
    routesFile,
    [
      'destinations:',
      '  mod-hook: { type: http, url: "https://moderation.example.com/vk", secret: "bench-secret-0123456789" }',
      '  bans: { type: amqp, queue: vk.bans }',
      // Not routed to (the routing figures stay as before); the delivery rounds send to them by name.
      ...['command', 'message', 'button', 'reaction'].flatMap((type) => [
        `  "redis:${type}": { type: redis }`,
        `  "stream:${type}": { type: redis, mode: stream, maxLen: 100000 }`,
      ]),
      'routes:',
      '  - { event_type: command, commands: [ban, kick], to: [bans, mod-hook] }',
      '  - { event_type: [button, reaction], peers: [2000000001, 2000000002, 2000000003], to: mod-hook }',
    ].join('\n'),
  );
  const config = loadConfig({
    MONGODB_URI: 'mongodb://127.0.0.1:1/unused',
    S3_BUCKET: 'unused-bucket',
    SYSTEM_TOKEN: 'bench-system-token-0123456789',
    VK_TOKEN: vk.token,
    VK_GROUP_ID: String(vk.groupId),
    VK_API_URL: vk.apiUrl,
    VK_ROUTES_FILE: routesFile,
    AMQP_URL: rabbit.url,
    REDIS_URL: redis.url,
    LOG_LEVEL: 'error',
  });
  const api = new VkApi(config);
  const directory = new VkDirectory(api, config);
  const routing = loadVkRouting(config);
  const options = { commandPrefixes: DEFAULT_COMMAND_PREFIXES };

  const updates = stream(EVENTS);
  vk.push(...updates);
  const server = await api.getLongPollServer();
  const firstTs = Number(server.ts) - EVENTS;

  /** Fetches the whole stream from the stand-in, batch by batch, calling `onBatch` for each. */
  async function drain(onBatch?: (batch: VkUpdate[]) => Promise<void>): Promise<number> {
    let ts = String(firstTs);
    let taken = 0;
    while (taken < EVENTS) {
      const answer: VkLongPollResponse = await api.checkLongPoll(server, ts, 0, new AbortController().signal);
      if ('failed' in answer) throw new Error(`stand-in answered failed:${answer.failed}`);
      taken += answer.updates.length;
      ts = String(answer.ts);
      if (onBatch) await onBatch(answer.updates);
    }
    return taken;
  }

  let routedDeliveries = 0;
  async function normaliseAndRoute(batch: VkUpdate[]): Promise<void> {
    const needed = namesNeeded(batch);
    const names = await directory.lookUp(needed.userIds, needed.peerIds);
    for (const update of batch) {
      const event = normaliseUpdate(update, names, options);
      if (!event) continue;
      const destinations = routeEvent(event, routing, DEFAULT_COMMAND_PREFIXES);
      // The body every destination gets.
      if (JSON.stringify(event).length > 0) routedDeliveries += destinations.length;
    }
  }

  // Warm the names cache (one users.get and one getConversationsById), so what follows measures the cached path.
  const everyone = namesNeeded(updates);
  await directory.lookUp(everyone.userIds, everyone.peerIds);
  const apiCallsAfterWarmup = vk.callsOf('users.get') + vk.callsOf('messages.getConversationsById');

  const standInAlone: number[] = [];
  const normaliseRoute: number[] = [];
  const pipeline: number[] = [];
  const batches: VkUpdate[][] = [];
  for (let i = 0; i < updates.length; i += BATCH) batches.push(updates.slice(i, i + BATCH));

  for (let round = 0; round < ROUNDS; round += 1) {
    let started = process.hrtime.bigint();
    await drain();
    standInAlone.push(EVENTS / (Number(process.hrtime.bigint() - started) / 1e9));

    routedDeliveries = 0;
    started = process.hrtime.bigint();
    for (const batch of batches) await normaliseAndRoute(batch);
    normaliseRoute.push(EVENTS / (Number(process.hrtime.bigint() - started) / 1e9));

    started = process.hrtime.bigint();
    await drain(normaliseAndRoute);
    pipeline.push(EVENTS / (Number(process.hrtime.bigint() - started) / 1e9));
  }
  const apiCallsDuringRuns = vk.callsOf('users.get') + vk.callsOf('messages.getConversationsById') - apiCallsAfterWarmup;

  // Deliveries: the same normalised events to RabbitMQ, Redis PUBLISH and Redis XADD, rounds interleaved.
  const names = await directory.lookUp(everyone.userIds, everyone.peerIds);
  const events = updates
    .map((update) => normaliseUpdate(update, names, options))
    .filter((event): event is VkEvent => event !== null)
    .slice(0, DELIVERIES);
  const delivery = await measureDeliveries(config, routing, events);

  const result = {
    benchmark: 'vk-normalise-route',
    events: EVENTS,
    rounds: ROUNDS,
    batchSize: BATCH,
    peers: PEERS,
    users: USERS,
    deliveriesPerRound: routedDeliveries,
    vkNameCallsDuringRuns: apiCallsDuringRuns,
    eventsPerSecond: {
      standInAlone: Math.round(median(standInAlone)),
      normaliseAndRouteCached: Math.round(median(normaliseRoute)),
      standInPlusNormaliseAndRoute: Math.round(median(pipeline)),
    },
    deliveries: {
      events: events.length,
      lanesAtOnce: LANES,
      peers: PEERS,
      eventsPerSecond: Object.fromEntries(DESTINATION_KINDS.map(({ key }) => [key, Math.round(median(delivery[key]))])),
      perRound: Object.fromEntries(DESTINATION_KINDS.map(({ key }) => [key, delivery[key].map(Math.round)])),
    },
    // The load average says how busy the host was (other processes share it); figures from a loaded host run low.
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadAverage1m: Number(loadavg()[0].toFixed(2)) },
    date: new Date().toISOString(),
    node: process.version,
  };
  const pad = (label: string) => label.padEnd(50);
  process.stdout.write(
    [
      `VK normalise + route, ${EVENTS} events x ${ROUNDS} rounds (median), batches of ${BATCH}, ${PEERS} chats, ${USERS} users`,
      `${pad('stand-in alone (long poll over HTTP, JSON)')}${result.eventsPerSecond.standInAlone.toLocaleString('en')} events/s`,
      `${pad('normalise + route, names cached')}${result.eventsPerSecond.normaliseAndRouteCached.toLocaleString('en')} events/s`,
      `${pad('stand-in + normalise + route')}${result.eventsPerSecond.standInPlusNormaliseAndRoute.toLocaleString('en')} events/s`,
      `VK name calls during the timed rounds: ${apiCallsDuringRuns} (cache hits only)`,
      '',
      `Deliveries, ${events.length} events x ${ROUNDS} rounds (median), ${LANES} peer lanes at once, each in order:`,
      ...DESTINATION_KINDS.map(({ key, label }) => `${pad(label)}${result.deliveries.eventsPerSecond[key].toLocaleString('en')} events/s`),
      '',
      JSON.stringify(result),
      '',
    ].join('\n'),
  );
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
  api.beforeApplicationShutdown();
  await vk.close();
}

async function measureDeliveries(
  config: AppConfig,
  routing: ReturnType<typeof loadVkRouting>,
  events: VkEvent[],
): Promise<Record<(typeof DESTINATION_KINDS)[number]['key'], number[]>> {
  const readiness = new ReadinessService();
  const amqp = new VkAmqpPublisher(config, routing, readiness);
  const redis = new VkRedisPublisher(config, routing, readiness);
  redis.onModuleInit();
  const discord = new DiscordRest(config, readiness); // unconfigured: the bench routes nothing to Discord
  const sender = new VkDeliverySender(routing, amqp, redis, new VkWebhookClient(), discord);
  try {
    await waitUntil(() => amqp.ping(), 'RabbitMQ did not answer');
    await waitUntil(() => redis.ping(), 'Redis did not answer');
    // One warm-up pass each (queues declared, connections up, JIT warm), not counted.
    for (const { destination } of DESTINATION_KINDS) await deliverAll(sender, destination, events.slice(0, 500));
    const figures = { rabbitmqConfirmed: [] as number[], redisPublish: [] as number[], redisStreamXadd: [] as number[] };
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const { key, destination } of DESTINATION_KINDS) figures[key].push(await deliverAll(sender, destination, events));
    }
    return figures;
  } finally {
    discord.onModuleDestroy();
    await amqp.beforeApplicationShutdown();
    await redis.beforeApplicationShutdown();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
