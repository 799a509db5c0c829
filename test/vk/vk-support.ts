import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VkEvent } from '../../src/vk/vk-event';
import type { VkConversation, VkUpdate, VkUser } from '../../src/vk/vk-wire';
import { eventually } from '../support/app';
import { chatPeer, messageNew } from '../stand-ins/vk/vk-updates';
import type { VkStandIn } from '../stand-ins/vk/vk-stand-in';

/**
 * vk-io starts `import('node-fetch')` when it loads; inside Jest's CommonJS sandbox that only works when Node runs
 * with --experimental-vm-modules. Fail with the fix instead of a timeout.
 */
export function requireVmModules(): void {
  const flags = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
  if (!flags.includes('--experimental-vm-modules')) {
    throw new Error(
      "VK e2e tests need Node's --experimental-vm-modules (vk-io imports node-fetch, an ES module): run NODE_OPTIONS=--experimental-vm-modules npx jest test/vk",
    );
  }
}

export const MODERATORS_CHAT = chatPeer(1);
export const OFFTOPIC_CHAT = chatPeer(2);

export const VK_USERS: VkUser[] = [
  { id: 1001, first_name: 'Ivan', last_name: 'Petrov', screen_name: 'ipetrov' },
  { id: 1002, first_name: 'Anna', last_name: 'Smirnova', screen_name: 'anna.s' },
  { id: 1003, first_name: 'Oleg', last_name: 'Sidorov', screen_name: 'id1003' },
];

export const VK_CONVERSATIONS: VkConversation[] = [
  { peer: { id: MODERATORS_CHAT, type: 'chat', local_id: 1 }, chat_settings: { title: 'Moderators', members_count: 5, owner_id: 1001 } },
  { peer: { id: OFFTOPIC_CHAT, type: 'chat', local_id: 2 }, chat_settings: { title: 'Off-topic', members_count: 40, owner_id: 1002 } },
];

/** Herald's environment for a VK stand-in. The VK poller and API role only: no Discord gateway. */
export function vkEnv(vk: VkStandIn, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HERALD_ROLES: 'api,vk',
    VK_TOKEN: vk.token,
    VK_GROUP_ID: String(vk.groupId),
    VK_API_URL: vk.apiUrl,
    VK_LONGPOLL_WAIT_SECONDS: '25',
    BROWSER_POOL_SIZE: '1',
    OUTBOX_BACKOFF_BASE_MS: '100',
    OUTBOX_BACKOFF_MAX_MS: '1000',
    // Lanes of this process start on enqueue and on their backoff timer; the poll only finds other replicas' work.
    OUTBOX_POLL_INTERVAL_MS: '500',
    ...extra,
  };
}

export function writeRoutesFile(content: unknown, extension: '.yaml' | '.json' = '.json'): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-vk-routes-'));
  const file = join(dir, `routes${extension}`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

export interface TappedMessage {
  queue: string;
  event: VkEvent;
  messageId: string | undefined;
  type: string | undefined;
  persistent: boolean;
  contentType: string | undefined;
}

/** Reads queues the way a downstream service would: consumes, acks, keeps what it read in order. */
export class QueueTap {
  readonly messages: TappedMessage[] = [];
  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
  ) {}

  static async open(url: string, queues: readonly string[]): Promise<QueueTap> {
    const connection = await connect(url);
    const channel = await connection.createChannel();
    const tap = new QueueTap(connection, channel);
    for (const queue of queues) {
      await channel.assertQueue(queue, { durable: true });
      await channel.consume(queue, (message) => message && tap.take(queue, message));
    }
    return tap;
  }

  of(queue: string): VkEvent[] {
    return this.messages.filter((m) => m.queue === queue).map((m) => m.event);
  }

  find(eventId: string, queue?: string): TappedMessage | undefined {
    return this.messages.find((m) => m.event.event_id === eventId && (queue === undefined || m.queue === queue));
  }

  waitFor(eventId: string, queue?: string, timeoutMs = 30_000): Promise<TappedMessage> {
    return eventually(() => this.find(eventId, queue), timeoutMs);
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }

  private take(queue: string, message: ConsumeMessage): void {
    this.messages.push({
      queue,
      event: JSON.parse(message.content.toString('utf8')) as VkEvent,
      messageId: message.properties.messageId as string | undefined,
      type: message.properties.type as string | undefined,
      persistent: message.properties.deliveryMode === 2,
      contentType: message.properties.contentType as string | undefined,
    });
    this.channel.ack(message);
  }
}

export async function getJson<T>(url: string, token?: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, body: (await response.json()) as T };
}

export async function postJson<T>(url: string, token: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as T };
}

/**
 * What a consumer that drops repeats by message id (README: delivery is at least once) makes of a queue: per peer, the
 * cmids in the order they first arrived, and how many arrivals were repeats of a message id already seen.
 */
export function firstArrivals(messages: readonly TappedMessage[]): { cmidsByPeer: Map<number, number[]>; ids: string[]; repeats: number } {
  const seen = new Set<string>();
  const cmidsByPeer = new Map<number, number[]>();
  let repeats = 0;
  for (const { event, messageId } of messages) {
    const id = messageId ?? event.event_id;
    if (seen.has(id)) {
      repeats += 1;
      continue;
    }
    seen.add(id);
    cmidsByPeer.set(event.peer.bpid, [...(cmidsByPeer.get(event.peer.bpid) ?? []), event.message?.cmid ?? -1]);
  }
  return { cmidsByPeer, ids: [...seen], repeats };
}

/** `count` message_new updates spread over `peers` in turn, each peer's cmids counting from `firstCmid`. */
export function messageStream(peers: readonly number[], count: number, label: string, firstCmid = 1): VkUpdate[] {
  const next = new Map(peers.map((peer) => [peer, firstCmid]));
  return Array.from({ length: count }, (_, i) => {
    const peerId = peers[i % peers.length];
    const cmid = next.get(peerId)!;
    next.set(peerId, cmid + 1);
    return messageNew({ peerId, fromId: VK_USERS[i % VK_USERS.length].id, text: `${label} ${i} (cmid ${cmid})`, cmid });
  });
}

/** Per peer, the cmids the stream holds, in order: what every destination must receive. */
export function expectedCmids(stream: readonly VkUpdate[]): Map<number, number[]> {
  const byPeer = new Map<number, number[]>();
  for (const update of stream) {
    const message = (update.object as { message: { peer_id: number; conversation_message_id: number } }).message;
    byPeer.set(message.peer_id, [...(byPeer.get(message.peer_id) ?? []), message.conversation_message_id]);
  }
  return byPeer;
}

/** Routes every message and command to one queue of its own (no default queues shared with other suites). */
export function ownQueueRoutes(queue: string): string {
  return writeRoutesFile({
    defaultQueues: false,
    destinations: { 'own-queue': { type: 'amqp', queue } },
    routes: [{ event_type: ['message', 'command'], to: ['own-queue'] }],
  });
}
