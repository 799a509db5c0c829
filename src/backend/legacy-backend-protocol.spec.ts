import { LegacyBackendProtocol } from './legacy-backend-protocol';
import type { BackendCallback } from './backend-callback';

const LINK = 'https://discord.com/channels/111111111111111111/222222222222222222/333333333333333333';

function callback(change: Partial<BackendCallback>): BackendCallback {
  return {
    event: 'created',
    idempotencyKey: 'discord:333333333333333333:created:1',
    guildId: '111111111111111111',
    channelId: '222222222222222222',
    messageId: '333333333333333333',
    authorId: '444444444444444444',
    guildName: 'Team',
    channelName: 'dev chat',
    jumpUrl: LINK,
    urn: 's3://files/renders/111111111111111111-dev chat/333333333333333333',
    url: 'https://files.s3.amazonaws.com/renders/111111111111111111-dev%20chat/333333333333333333',
    createdAt: '2024-05-01T14:30:00.000Z',
    editedAt: null,
    deletedAt: null,
    ...change,
  };
}

describe('LegacyBackendProtocol', () => {
  const protocol = new LegacyBackendProtocol('https://backend.example.com/api/', 'system-token-of-16');

  it('appends the render service paths to BACKEND_URL with everything in the query', () => {
    const created = protocol.request(callback({}));
    expect(created.method).toBe('POST');
    expect(created.url.origin + created.url.pathname).toBe('https://backend.example.com/api/discord/images');
    expect(Object.fromEntries(created.url.searchParams)).toEqual({
      s3_urn: 'https://files.s3.amazonaws.com/renders/111111111111111111-dev%20chat/333333333333333333',
      guild: '111111111111111111',
      channel: 'dev chat',
      jump_url: LINK,
    });

    const updated = protocol.request(callback({ event: 'updated' }));
    expect([updated.method, updated.url.pathname, Object.fromEntries(updated.url.searchParams)]).toEqual([
      'PUT',
      '/api/discord/images',
      { jump_url: LINK },
    ]);

    const deleted = protocol.request(callback({ event: 'deleted' }));
    expect([deleted.method, deleted.url.pathname, Object.fromEntries(deleted.url.searchParams)]).toEqual([
      'DELETE',
      '/api/discord/bot/images',
      { message_link: LINK },
    ]);
  });

  it('fills in what callbacks queued before names and links were kept lack', () => {
    const old = protocol.request(callback({ jumpUrl: undefined, channelName: undefined, url: undefined }));
    expect(Object.fromEntries(old.url.searchParams)).toEqual({
      s3_urn: 's3://files/renders/111111111111111111-dev chat/333333333333333333',
      guild: '111111111111111111',
      channel: '222222222222222222',
      jump_url: LINK,
    });
  });
});
