import { VkApiError } from './vk-api';

describe('VkApiError', () => {
  const keyRefused = (code: number, message: string) => new VkApiError(code, message, 'groups.getLongPollServer');

  it('calls error 15 and an error 100 other than Long Poll off a refused community, on groups.getLongPollServer only', () => {
    expect(keyRefused(15, 'Access denied: no access to call this method').isCommunityRefused).toBe(true);
    expect(keyRefused(100, 'One of the parameters specified was missing or invalid: group_id is undefined').isCommunityRefused).toBe(true);

    const off = keyRefused(100, 'One of the parameters specified was missing or invalid: longpoll for this group is not enabled');
    expect(off.isLongPollOff).toBe(true);
    expect(off.isCommunityRefused).toBe(false);
    expect(keyRefused(10, 'Internal server error').isCommunityRefused).toBe(false);
    expect(new VkApiError(15, 'Access denied', 'users.get').isCommunityRefused).toBe(false);
  });
});
