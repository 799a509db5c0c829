import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LegacyBackendProtocol, renderServiceObjectOf } from './legacy-backend-protocol';
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
      // The key as stored, as the render service sent it: its backend cuts the key out of this URL to delete it.
      s3_urn: 'https://files.s3.amazonaws.com/renders/111111111111111111-dev chat/333333333333333333',
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

  it('sends a non-ASCII key as stored, so the backend deletes the object the render service would have', () => {
    const url = 'https://files.s3.eu-central-1.amazonaws.com/renders/111-%C3%A9quipe%20%E2%80%94%20d%C3%A9mo/333';
    const created = protocol.request(callback({ url }));
    const s3Urn = created.url.searchParams.get('s3_urn')!;
    expect(s3Urn).toBe('https://files.s3.eu-central-1.amazonaws.com/renders/111-équipe — démo/333');
    // The backend's delete_s3_object: bucket = url.split('//')[1].split('.')[0], key = url.split('.com')[1][1:]
    expect([s3Urn.split('//')[1].split('.')[0], s3Urn.split('.com')[1].slice(1)]).toEqual(['files', 'renders/111-équipe — démo/333']);
  });

  it("knows which S3_PUBLIC_URL the backend's delete can cut apart (start-up warns about the others)", () => {
    expect(renderServiceObjectOf('https://files.s3.eu-central-1.amazonaws.com/a b/c')).toEqual({ bucket: 'files', key: 'a b/c' });
    expect(renderServiceObjectOf('https://cdn.example.com/a/c')).toEqual({ bucket: 'cdn', key: 'a/c' });
    expect(renderServiceObjectOf('http://127.0.0.1:9000/files/a/c')).toBeNull();
  });

  describe('against a backend that answers', () => {
    let server: Server;
    let status = 200;
    let live: LegacyBackendProtocol;

    beforeAll(async () => {
      server = createServer((request, response) => request.resume().on('end', () => response.writeHead(status).end()));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      live = new LegacyBackendProtocol(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, 'system-token-of-16');
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('takes a 404 to a delete as "nothing to delete" (it keeps 3 images a channel), and any other 4xx as a refusal', async () => {
      status = 404;
      await expect(live.deliver(callback({ event: 'deleted' }))).resolves.toBe('nothing-to-delete');
      await expect(live.deliver(callback({ event: 'created' }))).rejects.toThrow('HTTP 404');
      await expect(live.deliver(callback({ event: 'updated' }))).rejects.toThrow('HTTP 404');
      status = 401;
      await expect(live.deliver(callback({ event: 'deleted' }))).rejects.toThrow('HTTP 401');
      status = 200;
      await expect(live.deliver(callback({ event: 'deleted' }))).resolves.toBe('acknowledged');
    });
  });
});
