import request from 'supertest';
import { ObjectStorage } from '../../src/storage/object-storage';
import { BackendReceiver } from '../stand-ins/backend/backend-receiver';
import { startDiscordStandIn, type DiscordStandIn, type UserMessage } from '../stand-ins/discord';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { requireEnv } from '../support/servers';

/** Herald with its Discord bot on, connected to the Discord stand-in, calling back a recording backend. */
export interface BotWorld {
  discord: DiscordStandIn;
  backend: BackendReceiver;
  herald: HeraldUnderTest;
  storage(): ObjectStorage;
  /** Posts as a person and waits until the backend has heard `created` for it. */
  post(message: Omit<UserMessage, 'channelId'> & { channelId?: string }): Promise<{ id: string; urn: string }>;
  /** Waits until `GET /outbox?queue=<queue>` lists a parked job of `lane`; answers it. */
  parkedJob(queue: string, lane: string, timeoutMs?: number): Promise<ParkedJob>;
  /**
   * Stops Herald and starts it again on the same database and bucket; waits until the new bot is connected.
   * `whileStopped` runs in between (e.g. people posting while no bot is connected).
   */
  restart(whileStopped?: () => void | Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/** A parked job as GET /outbox lists it (the fields the tests read). */
export interface ParkedJob {
  id: string;
  queue: string;
  lane: string;
  attempts: number;
  lastError: string | null;
}

export function botEnv(discord: DiscordStandIn, backend: { url: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HERALD_ROLES: 'api,discord',
    DISCORD_TOKEN: discord.token,
    DISCORD_RENDER_MESSAGES: 'true',
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_CDN_URL: discord.cdnUrl,
    // Avatars, custom emoji and attachments come from the stand-in's CDN.
    RENDER_FETCH_ALLOWLIST: new URL(discord.cdnUrl).host,
    BACKEND_URL: backend.url,
    DISCORD_PRESENCE_INTERVAL_MS: '1000',
    OUTBOX_POLL_INTERVAL_MS: '200',
    OUTBOX_BACKOFF_BASE_MS: '200',
    OUTBOX_BACKOFF_MAX_MS: '1500',
    ...extra,
  };
}

export async function startBotWorld(extraEnv: Record<string, string> = {}): Promise<BotWorld> {
  const discord = await startDiscordStandIn();
  const backend = await BackendReceiver.start(requireEnv('TEST_SYSTEM_TOKEN'));
  let herald = await bootHerald(botEnv(discord, backend, extraEnv));
  await discord.waitForIdentify(1);
  const world: BotWorld = {
    discord,
    backend,
    get herald() {
      return herald;
    },
    storage: () => herald.app.get(ObjectStorage),
    async post(message) {
      const sent = discord.messageCreate({ channelId: discord.channels.general.id, ...message });
      const created = await backend.waitFor({ messageId: sent.id, event: 'created' });
      return { id: sent.id, urn: created.urn ?? '' };
    },
    parkedJob(queue, lane, timeoutMs = 60_000) {
      return eventually(
        async () => {
          const response = await request(herald.url)
            .get(`/outbox?queue=${queue}`)
            .set({ authorization: `Bearer ${herald.token}` });
          expect(response.status).toBe(200);
          return (response.body as { parked: ParkedJob[] }).parked.find((job) => job.lane === lane);
        },
        timeoutMs,
        250,
      );
    },
    async restart(whileStopped) {
      const identified = discord.identifyCount;
      await herald.close();
      await whileStopped?.();
      herald = await bootHerald(herald.env, { fresh: false });
      await discord.waitForIdentify(identified + 1);
    },
    async close() {
      await herald?.close();
      await backend.stop();
      await discord.stop();
    },
  };
  return world;
}

type CallbackEvent = 'created' | 'updated' | 'deleted';

/**
 * Bot traffic of `messages` new messages, one per tick: every third is edited once its `created` callback arrived,
 * every fifth deleted once what it owed before arrived. `duringTick` runs before each tick (a fault test stops and
 * starts servers there). Answers the callbacks each message must get, in order.
 */
export async function sendBotTraffic(
  discord: DiscordStandIn,
  backend: BackendReceiver,
  options: { messages: number; label: string; tickMs?: number; duringTick?: (tick: number) => Promise<void>; timeoutMs?: number },
): Promise<Map<string, CallbackEvent[]>> {
  const deadline = Date.now() + (options.timeoutMs ?? 360_000);
  const channels = [discord.channels.general.id, discord.channels.builds.id];
  const authors = [discord.users.alice, discord.users.bob, discord.users.carol];
  const expected = new Map<string, CallbackEvent[]>();
  const plan: Array<{ id: string; channelId: string; edit: boolean; remove: boolean; edited: boolean; removed: boolean }> = [];
  const heard = (id: string, event: CallbackEvent) => backend.callbacks({ messageId: id, event }).length > 0;
  for (let tick = 0; ; tick++) {
    await options.duringTick?.(tick);
    if (tick < options.messages) {
      const channelId = channels[tick % channels.length];
      const sent = discord.messageCreate({ channelId, author: authors[tick % authors.length], content: `${options.label} ${tick}` });
      plan.push({ id: sent.id, channelId, edit: tick % 3 === 0, remove: tick % 5 === 0, edited: false, removed: false });
      expected.set(sent.id, ['created', ...(tick % 3 === 0 ? ['updated' as const] : []), ...(tick % 5 === 0 ? ['deleted' as const] : [])]);
    }
    for (const message of plan) {
      if (message.edit && !message.edited && heard(message.id, 'created')) {
        discord.messageUpdate(message.channelId, message.id, { content: `${options.label} edited`, editedAt: new Date() });
        message.edited = true;
      } else if (message.remove && !message.removed && heard(message.id, message.edit ? 'updated' : 'created')) {
        discord.messageDelete(message.channelId, message.id);
        message.removed = true;
      }
    }
    if (tick >= options.messages && plan.every((message) => message.edited === message.edit && message.removed === message.remove)) return expected;
    if (Date.now() > deadline) {
      const waiting = plan.filter((message) => message.edited !== message.edit || message.removed !== message.remove);
      const heardOf = (id: string) => backend.callbacks({ messageId: id }).map((callback) => callback.event);
      throw new Error(
        `bot traffic: edits and deletes never became due for ${waiting.map((message) => `${message.id} (heard ${heardOf(message.id).join(',') || 'nothing'})`).join('; ')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.tickMs ?? 250));
  }
}

/**
 * Waits until the backend heard every expected callback, lets stray repeats arrive, and counts per message what is
 * missing and what came twice. A repeat with the same Idempotency-Key (a job that ran again after a fault) is a
 * delivery the backend dedupes, counted apart from a second callback for one message version.
 */
export async function countDelivered(
  backend: BackendReceiver,
  expected: Map<string, CallbackEvent[]>,
  timeoutMs = 180_000,
): Promise<{ messages: number; callbacks: number; lost: number; duplicated: number; repeatedDeliveries: number; wrong: string[] }> {
  const owed = [...expected].flatMap(([messageId, events]) => events.map((event) => ({ messageId, event })));
  await backend
    .waitUntil(() => owed.every((callback) => backend.callbacks(callback).length > 0), `${owed.length} callbacks`, timeoutMs)
    .catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  let lost = 0;
  let duplicated = 0;
  const wrong: string[] = [];
  for (const [messageId, events] of expected) {
    const received = backend.callbacks({ messageId });
    const distinct = [...new Map(received.map((callback) => [callback.idempotencyKey, callback.event])).values()];
    lost += events.filter((event) => !distinct.includes(event)).length;
    duplicated += distinct.length - new Set(distinct).size;
    if (JSON.stringify(distinct) !== JSON.stringify(events)) wrong.push(`${messageId}: expected ${events.join(',')}, got ${distinct.join(',')}`);
  }
  const ours = backend.accepted.filter((received) => expected.has(received.body.messageId));
  const keys = new Set(ours.map((received) => received.body.idempotencyKey));
  return { messages: expected.size, callbacks: keys.size, lost, duplicated, repeatedDeliveries: ours.length - keys.size, wrong };
}
