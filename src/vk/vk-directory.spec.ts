import type { AppConfig } from '../config/config';
import { VkApiError, type VkApi } from './vk-api';
import { VkDirectory } from './vk-directory';
import type { VkConversation, VkUser } from './vk-wire';

class FakeVkApi {
  readonly userCalls: number[][] = [];
  readonly conversationCalls: number[][] = [];
  failUsersWith: VkApiError | null = null;
  users: VkUser[] = [
    { id: 1, first_name: 'Ivan', last_name: 'Petrov', screen_name: 'ip' },
    { id: 2, first_name: 'Anna', last_name: 'S', screen_name: 'as' },
  ];
  conversations: VkConversation[] = [{ peer: { id: 2000000001, type: 'chat', local_id: 1 }, chat_settings: { title: 'Chat one' } }];

  async usersGet(ids: readonly number[]): Promise<VkUser[]> {
    this.userCalls.push([...ids]);
    if (this.failUsersWith) throw this.failUsersWith;
    return this.users.filter((u) => ids.includes(u.id));
  }

  async getConversationsById(ids: readonly number[]): Promise<VkConversation[]> {
    this.conversationCalls.push([...ids]);
    return this.conversations.filter((c) => ids.includes(c.peer.id));
  }
}

function directory(ttlSeconds = 600) {
  const api = new FakeVkApi();
  const config = { vk: { nameCacheTtlSeconds: ttlSeconds } } as AppConfig;
  return { api, names: new VkDirectory(api as unknown as VkApi, config) };
}

describe('VkDirectory', () => {
  it('asks for all missing names of a batch in one call each, then answers from the cache', async () => {
    const { api, names } = directory();
    const book = await names.lookUp([1, 2, 1, 3], [2000000001, 2000000002]);

    expect(api.userCalls).toEqual([[1, 2, 3]]);
    expect(api.conversationCalls).toEqual([[2000000001, 2000000002]]);
    expect(book.user(1)?.first_name).toBe('Ivan');
    expect(book.user(3)).toBeUndefined();
    expect(book.conversation(2000000001)?.chat_settings?.title).toBe('Chat one');

    // Known and unknown ids alike are remembered: a busy chat costs no more calls.
    const again = await names.lookUp([1, 2, 3], [2000000001, 2000000002]);
    expect(api.userCalls).toHaveLength(1);
    expect(api.conversationCalls).toHaveLength(1);
    expect(again.user(2)?.first_name).toBe('Anna');
  });

  it('asks again once the TTL has passed (TTL 0: every batch)', async () => {
    const { api, names } = directory(0);
    await names.lookUp([1], []);
    await names.lookUp([1], []);
    expect(api.userCalls).toEqual([[1], [1]]);
  });

  it('lets temporary and auth errors through (the poller retries or stops) and tolerates any other refusal', async () => {
    const { api, names } = directory();
    api.failUsersWith = new VkApiError(10, 'Internal server error', 'users.get');
    await expect(names.lookUp([1], [])).rejects.toMatchObject({ code: 10 });
    api.failUsersWith = new VkApiError(5, 'User authorization failed', 'users.get');
    await expect(names.lookUp([1], [])).rejects.toMatchObject({ code: 5 });

    api.failUsersWith = new VkApiError(113, 'Invalid user id', 'users.get');
    const book = await names.lookUp([1], []);
    expect(book.user(1)).toBeUndefined();
    // A refusal is not cached: the next batch asks again.
    api.failUsersWith = null;
    expect((await names.lookUp([1], [])).user(1)?.first_name).toBe('Ivan');
  });
});
