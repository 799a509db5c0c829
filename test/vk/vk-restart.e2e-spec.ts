import { randomBytes } from 'node:crypto';
import type { VkEvent } from '../../src/vk/vk-event';
import { VkPoller } from '../../src/vk/vk-poller';
import { HttpReceiver } from '../stand-ins/http-receiver/http-receiver';
import { VkStandIn } from '../stand-ins/vk/vk-stand-in';
import { chatPeer, messageNew } from '../stand-ins/vk/vk-updates';
import type { VkUpdate } from '../../src/vk/vk-wire';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { requireEnv } from '../support/servers';
import { QueueTap, VK_USERS, requireVmModules, vkEnv, writeRoutesFile } from './vk-support';

// Every delivery is an outbox job (claim, record, move the lane's head): on the shared test FerretDB under load this
// takes a while, so the waits are long; nothing here measures speed.
jest.setTimeout(900_000);

const SECRET = 'vk-restart-webhook-secret-0123456789';
const PEERS = [chatPeer(11), chatPeer(12), chatPeer(13), chatPeer(14)];
// 200 before VK moved onto the shared outbox; each delivery now costs a dozen database round trips (claim, record,
// lane head), which the shared, loaded test FerretDB makes slow: 100 still spans many batches and the restart.
const TOTAL = 100;

/** Per peer, the cmids in the order a destination received them. */
function cmidsByPeer(events: VkEvent[]): Map<number, number[]> {
  const byPeer = new Map<number, number[]>();
  for (const event of events) byPeer.set(event.peer.bpid, [...(byPeer.get(event.peer.bpid) ?? []), event.message!.cmid]);
  return byPeer;
}

describe('VK poller replaced in the middle of a stream (a standby replica takes over)', () => {
  const queue = `vk-restart-${randomBytes(4).toString('hex')}`;
  let vk: VkStandIn;
  let receiver: HttpReceiver;
  let tap: QueueTap;
  let first: HeraldUnderTest | undefined;
  let second: HeraldUnderTest | undefined;

  beforeAll(async () => {
    requireVmModules();
    // Small long-poll batches, so the stream spans many batches and the restart lands between (or inside) them.
    vk = await VkStandIn.start({ users: VK_USERS, batchLimit: 15 });
    receiver = await HttpReceiver.start(SECRET);
    tap = await QueueTap.open(requireEnv('TEST_AMQP_URL'), [queue]);
  });

  afterAll(async () => {
    await first?.close().catch(() => undefined);
    await second?.close();
    await tap?.close();
    await vk?.close();
    await receiver?.close();
  });

  it('delivers every one of 100 events exactly once, in order per peer, to a queue and a webhook', async () => {
    const routesFile = writeRoutesFile(
      [
        '# Only this suite reads its queue: no default queues shared with other suites.',
        'defaultQueues: false',
        'destinations:',
        '  stream-queue: { type: amqp, queue: ' + queue + ' }',
        `  stream-hook: { type: http, url: "${receiver.url('/stream')}", secret: ${SECRET} }`,
        'routes:',
        '  - event_type: [message, command]',
        '    to: [stream-queue, stream-hook]',
      ].join('\n'),
      '.yaml',
    );
    // A graceful stop records the outcome of every delivery in flight before it exits (the outbox's drain): long enough
    // for that on a loaded machine, so the handover repeats nothing. (A SIGKILL does: test/vk/vk-takeover.)
    const env = vkEnv(vk, { AMQP_URL: requireEnv('TEST_AMQP_URL'), VK_ROUTES_FILE: routesFile, SHUTDOWN_TIMEOUT_MS: '30000' });
    first = await bootHerald(env);
    await eventually(() => vk.heldPolls === 1, 30_000);

    // A second replica on the same database stands by instead of taking the long-poll key away.
    const keysHandedOut = vk.callsOf('groups.getLongPollServer');
    second = await bootHerald(first.env, { fresh: false });
    await eventually(() => second!.app.get(VkPoller).status === 'standby', 30_000);
    expect(vk.callsOf('groups.getLongPollServer')).toBe(keysHandedOut);
    expect(first.app.get(VkPoller).status).toBe('polling');

    const cmids = new Map(PEERS.map((peer) => [peer, 0]));
    const stream: VkUpdate[] = Array.from({ length: TOTAL }, (_, i) => {
      const peerId = PEERS[i % PEERS.length];
      const cmid = (cmids.get(peerId) ?? 0) + 1;
      cmids.set(peerId, cmid);
      return messageNew({ peerId, fromId: VK_USERS[i % VK_USERS.length].id, text: `event ${i} (cmid ${cmid})`, cmid });
    });

    // Push the stream in chunks while Herald works on it; restart once part of it got through.
    const pushing = (async () => {
      for (let i = 0; i < TOTAL; i += 10) {
        vk.push(...stream.slice(i, i + 10));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await eventually(() => tap.messages.length >= 30, 300_000);
    const firstInstance = first;
    first = undefined;
    await firstInstance.close();
    const deliveredByFirst = tap.messages.length;

    // The lease was handed back at shutdown; the standby takes it on its next try and resumes from the stored ts.
    await pushing;
    await eventually(() => tap.messages.length >= TOTAL && receiver.accepted.length >= TOTAL, 600_000);
    // Anything late would be a duplicate: a marker pushed now arrives behind anything still on its way.
    const marker = messageNew({ peerId: PEERS[0], fromId: 1001, text: 'marker', cmid: (cmids.get(PEERS[0]) ?? 0) + 1 });
    vk.push(marker);
    await tap.waitFor(marker.event_id, undefined, 120_000);
    await eventually(() => receiver.accepted.some((r) => (r.body as VkEvent).event_id === marker.event_id), 120_000);

    const queued = tap.messages.map((m) => m.event).filter((event) => event.event_id !== marker.event_id);
    const hooked = receiver.accepted.map((r) => r.body as VkEvent).filter((event) => event.event_id !== marker.event_id);
    const expectedIds = stream.map((update) => update.event_id).sort();
    expect(queued.map((event) => event.event_id).sort()).toEqual(expectedIds);
    expect(hooked.map((event) => event.event_id).sort()).toEqual(expectedIds);
    expect(receiver.accepted.every((r) => r.signatureValid)).toBe(true);

    const inOrder = new Map(PEERS.map((peer) => [peer, Array.from({ length: cmids.get(peer) ?? 0 }, (_, i) => i + 1)]));
    expect(cmidsByPeer(queued)).toEqual(inOrder);
    expect(cmidsByPeer(hooked)).toEqual(inOrder);

    expect(second.app.get(VkPoller).status).toBe('polling');
    // The switch really was in the middle: the first instance got some of the stream through, not all of it.
    expect(deliveredByFirst).toBeGreaterThanOrEqual(30);
    expect(deliveredByFirst).toBeLessThan(TOTAL);
  });
});
