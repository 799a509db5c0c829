import { Logger } from '@nestjs/common';
import type { APIMessage } from 'discord.js';
import { loadConfig } from '../config/config';
import type { DiscordGateway, ReadableChannel } from './discord-gateway';
import { MessageCatchUp } from './message-catch-up';
import type { MessageImageService } from './message-image.service';
import type { MessageImageStore } from './message-image.store';

const CHANNEL: ReadableChannel = { guildId: '100', channelId: '200', parentId: null };
const LAST_RECORDED = 1000n;

/** A channel holding `missed` messages after the last one Herald recorded, served in pages as Discord does. */
function world(options: { missed: number; limit: number; hold?: Promise<void> }) {
  const ids = Array.from({ length: options.missed }, (_, index) => (LAST_RECORDED + 1n + BigInt(index)).toString());
  const pages: Array<{ after: string; limit: number }> = [];
  const recorded: string[] = [];
  let sessions = 0;
  const gateway = {
    readableChannels: async () => {
      sessions += 1;
      await options.hold;
      return [CHANNEL];
    },
    messagesAfter: async (_channelId: string, after: string, limit: number) => {
      pages.push({ after, limit });
      return ids
        .filter((id) => BigInt(id) > BigInt(after))
        .slice(0, limit)
        .map((id) => ({ id }) as APIMessage);
    },
  } as unknown as DiscordGateway;
  const store = { newestIn: async () => LAST_RECORDED.toString() } as unknown as MessageImageStore;
  const images = { recordMissed: async (message: APIMessage) => void recorded.push(message.id) } as unknown as MessageImageService;
  const config = loadConfig({ SYSTEM_TOKEN: 'a-long-enough-system-token', DISCORD_CATCH_UP_LIMIT: String(options.limit) });
  return { catchUp: new MessageCatchUp(config, gateway, store, images), ids, pages, recorded, sessions: () => sessions };
}

describe('MessageCatchUp', () => {
  let warn: jest.SpyInstance;

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  const limitWarnings = () => warn.mock.calls.filter(([, message]) => String(message).includes('DISCORD_CATCH_UP_LIMIT'));

  it('reads a channel forward from its last record, a page of 100 at a time, until a page is not full', async () => {
    const { catchUp, ids, pages, recorded } = world({ missed: 150, limit: 200 });
    await catchUp.shardReady(0);
    expect(recorded).toEqual(ids);
    expect(pages).toEqual([
      { after: LAST_RECORDED.toString(), limit: 100 },
      { after: ids[99], limit: 100 },
    ]);
    expect(limitWarnings()).toEqual([]);
  });

  it('stops at the limit, asking one message past it to tell whether more were missed', async () => {
    const small = world({ missed: 5, limit: 3 });
    await small.catchUp.shardReady(0);
    expect(small.recorded).toEqual(small.ids.slice(0, 3));
    expect(small.pages).toEqual([{ after: LAST_RECORDED.toString(), limit: 4 }]);
    expect(limitWarnings()).toHaveLength(1);

    const exact = world({ missed: 3, limit: 3 });
    await exact.catchUp.shardReady(0);
    expect(exact.recorded).toEqual(exact.ids);
    expect(limitWarnings()).toHaveLength(1);
  });

  it('asks once more when the limit ends on a full page of 100', async () => {
    const exact = world({ missed: 200, limit: 200 });
    await exact.catchUp.shardReady(0);
    expect(exact.recorded).toHaveLength(200);
    expect(exact.pages.map((page) => page.limit)).toEqual([100, 100, 1]);
    expect(limitWarnings()).toEqual([]);

    const over = world({ missed: 201, limit: 200 });
    await over.catchUp.shardReady(0);
    expect(over.recorded).toEqual(over.ids.slice(0, 200));
    expect(limitWarnings()).toHaveLength(1);
  });

  it('catches a shard up once more when it starts another session while its catch-up runs', async () => {
    let release = () => {};
    const hold = new Promise<void>((resolve) => (release = resolve));
    const { catchUp, sessions } = world({ missed: 0, limit: 200, hold });
    const first = catchUp.shardReady(0);
    const second = catchUp.shardReady(0);
    await second;
    expect(sessions()).toBe(1);
    release();
    await first;
    expect(sessions()).toBe(2);
  });

  it('reads nothing back with DISCORD_CATCH_UP_LIMIT=0', async () => {
    const { catchUp, pages, sessions } = world({ missed: 5, limit: 0 });
    await catchUp.shardReady(0);
    expect(sessions()).toBe(0);
    expect(pages).toEqual([]);
  });
});
