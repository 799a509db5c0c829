// Benchmark (not a test): VK normalise + route throughput with enrichment cached, beside what the VK stand-in
// alone can serve over the long poll. Run with `npm run bench:vk` (optionally `-- --events 20000 --rounds 5`).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config';
import { VkApi } from '../src/vk/vk-api';
import { VkDirectory } from '../src/vk/vk-directory';
import { DEFAULT_COMMAND_PREFIXES, namesNeeded, normaliseUpdate } from '../src/vk/vk-normaliser';
import { loadVkRouting, routeEvent } from '../src/vk/vk-routes';
import type { VkLongPollResponse, VkUpdate, VkUser, VkConversation } from '../src/vk/vk-wire';
import { VkStandIn } from '../test/stand-ins/vk/vk-stand-in';
import { callbackButton, chatPeer, messageNew, reaction } from '../test/stand-ins/vk/vk-updates';

const args = new Map<string, string>();
process.argv.slice(2).forEach((arg, i, all) => arg.startsWith('--') && args.set(arg.slice(2), all[i + 1] ?? ''));
const EVENTS = Number(args.get('events') ?? 20_000);
const ROUNDS = Number(args.get('rounds') ?? 5);
const BATCH = 100; // updates per long-poll answer, about what a busy community sees
const PEERS = 50;
const USERS = 300;

const users: VkUser[] = Array.from({ length: USERS }, (_, i) => ({ id: 10_000 + i, first_name: `First${i}`, last_name: `Last${i}`, screen_name: `user${i}` }));
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const vk = await VkStandIn.start({ users, conversations, batchLimit: BATCH });
  const routesDir = mkdtempSync(join(tmpdir(), 'herald-bench-vk-'));
  const routesFile = join(routesDir, 'routes.yaml');
  writeFileSync(
    routesFile,
    [
      'destinations:',
      '  mod-hook: { type: http, url: "https://moderation.example.com/vk", secret: "bench-secret-0123456789" }',
      '  bans: { type: amqp, queue: vk.bans }',
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
    AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
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
    node: process.version,
  };
  const pad = (label: string) => label.padEnd(46);
  process.stdout.write(
    [
      `VK normalise + route, ${EVENTS} events x ${ROUNDS} rounds (median), batches of ${BATCH}, ${PEERS} chats, ${USERS} users`,
      `${pad('stand-in alone (long poll over HTTP, JSON)')}${result.eventsPerSecond.standInAlone.toLocaleString('en')} events/s`,
      `${pad('normalise + route, names cached')}${result.eventsPerSecond.normaliseAndRouteCached.toLocaleString('en')} events/s`,
      `${pad('stand-in + normalise + route')}${result.eventsPerSecond.standInPlusNormaliseAndRoute.toLocaleString('en')} events/s`,
      `VK name calls during the timed rounds: ${apiCallsDuringRuns} (cache hits only)`,
      JSON.stringify(result),
      '',
    ].join('\n'),
  );
  api.beforeApplicationShutdown();
  await vk.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
