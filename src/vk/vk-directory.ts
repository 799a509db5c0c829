// Names of VK users and chats for the normaliser: one users.get and one messages.getConversationsById per
// long-poll batch for whatever is not cached, kept for VK_NAME_CACHE_TTL_SECONDS so a busy chat costs no calls.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { telemetry } from '../telemetry/telemetry';
import { CONVERSATIONS_MAX_IDS, USERS_GET_MAX_IDS, VkApi, VkApiError } from './vk-api';
import type { VkNameBook } from './vk-normaliser';
import type { VkConversation, VkUser } from './vk-wire';

const MAX_ENTRIES = 50_000;

interface Entry<T> {
  value: T | null;
  expiresAt: number;
}

const lookups = telemetry.counter('herald_vk_name_lookups_total', 'VK name lookups by kind and cache result', ['kind', 'result']);

/** A TTL cache with a size cap; the oldest insertions go first when it is full. */
class TtlCache<T> {
  private readonly entries = new Map<number, Entry<T>>();

  constructor(private readonly ttlMs: number) {}

  get(id: number, now: number): Entry<T> | undefined {
    const entry = this.entries.get(id);
    if (entry && entry.expiresAt > now) return entry;
    if (entry) this.entries.delete(id);
    return undefined;
  }

  set(id: number, value: T | null, now: number): void {
    this.entries.delete(id);
    this.entries.set(id, { value, expiresAt: now + this.ttlMs });
    if (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

@Injectable()
export class VkDirectory {
  private readonly logger = new Logger(VkDirectory.name);
  private readonly users: TtlCache<VkUser>;
  private readonly conversations: TtlCache<VkConversation>;

  constructor(
    private readonly api: VkApi,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const ttlMs = config.vk.nameCacheTtlSeconds * 1000;
    this.users = new TtlCache(ttlMs);
    this.conversations = new TtlCache(ttlMs);
  }

  /**
   * A name book covering `userIds` and `peerIds`, fetching what the cache lacks in as few calls as VK allows.
   * Temporary VK failures and auth failures propagate (the poller backs off or stops); any other VK error leaves
   * those names unknown rather than holding events back.
   */
  async lookUp(userIds: readonly number[], peerIds: readonly number[]): Promise<VkNameBook> {
    const now = Date.now();
    const known = {
      users: new Map<number, VkUser | null>(),
      conversations: new Map<number, VkConversation | null>(),
    };

    const missingUsers = this.collect(userIds, this.users, known.users, now, 'user');
    const missingPeers = this.collect(peerIds, this.conversations, known.conversations, now, 'conversation');

    for (const chunk of chunks(missingUsers, USERS_GET_MAX_IDS)) {
      const found = await this.tolerant('users.get', () => this.api.usersGet(chunk));
      const byId = new Map((found ?? []).map((user) => [user.id, user]));
      for (const id of chunk) {
        const user = byId.get(id) ?? null;
        known.users.set(id, user);
        if (found) this.users.set(id, user, now);
      }
    }
    for (const chunk of chunks(missingPeers, CONVERSATIONS_MAX_IDS)) {
      const found = await this.tolerant('messages.getConversationsById', () => this.api.getConversationsById(chunk));
      const byId = new Map((found ?? []).map((conversation) => [conversation.peer.id, conversation]));
      for (const id of chunk) {
        const conversation = byId.get(id) ?? null;
        known.conversations.set(id, conversation);
        if (found) this.conversations.set(id, conversation, now);
      }
    }

    return {
      user: (id) => known.users.get(id) ?? this.users.get(id, Date.now())?.value ?? undefined,
      conversation: (peerId) => known.conversations.get(peerId) ?? this.conversations.get(peerId, Date.now())?.value ?? undefined,
    };
  }

  private collect<T>(ids: readonly number[], cache: TtlCache<T>, into: Map<number, T | null>, now: number, kind: string): number[] {
    const missing: number[] = [];
    for (const id of new Set(ids)) {
      const entry = cache.get(id, now);
      if (entry) {
        into.set(id, entry.value);
        lookups.inc({ kind, result: 'hit' });
      } else {
        missing.push(id);
        lookups.inc({ kind, result: 'miss' });
      }
    }
    return missing;
  }

  private async tolerant<T>(method: string, call: () => Promise<T>): Promise<T | null> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof VkApiError) || error.isTransient || error.isAuthFailure) throw error;
      this.logger.warn({ method, code: error.code }, `VK ${method} refused (${error.message}); names stay unknown for this batch`);
      return null;
    }
  }
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
