import { Logger } from '@nestjs/common';
import type { APIMessage, GatewayDispatchPayload } from 'discord.js';
import { loadConfig } from '../config/config';
import type { DiscordGateway, ReadableChannel } from './discord-gateway';
import { MessageCatchUp } from './message-catch-up';
import type { MessageImageService } from './message-image.service';
import type { MessageImageStore } from './message-image.store';

const CHANNEL: ReadableChannel = { guildId: '100', channelId: '200', parentId: null };
const LAST_RECORDED = 1000n;

/**
 * A channel holding `missed` messages after the last one Herald recorded (and `recorded` before it, with their
 * records), served in pages as Discord does.
 */
function world(options: {
  missed: number;
  limit: number;
  hold?: Promise<void>;
  recorded?: Array<{ id: bigint; editedAt?: Date; gone?: boolean; editedSince?: Date }>;
  /** Discord answers the look back with nothing (as it does to a bot without Read Message History). */
  emptyLookBack?: boolean;
}) {
  const before = (options.recorded ?? []).map((entry) => ({
    id: entry.id.toString(),
    ...(entry.editedSince ? { edited_timestamp: entry.editedSince.toISOString() } : { edited_timestamp: null }),
    gone: entry.gone ?? false,
  }));
  const last = { id: LAST_RECORDED.toString(), edited_timestamp: null, gone: false };
  const ids = Array.from({ length: options.missed }, (_, index) => (LAST_RECORDED + 1n + BigInt(index)).toString());
  const channel = [...before, last, ...ids.map((id) => ({ id, edited_timestamp: null, gone: false }))].filter((message) => !message.gone);
  const records = [
    ...(options.recorded ?? []).map((entry) => ({ messageId: entry.id.toString(), editedAt: entry.editedAt ?? null })),
    { messageId: last.id, editedAt: null },
  ];
  const pages: Array<{ after?: string; before?: string; limit: number }> = [];
  const recorded: string[] = [];
  let sessions = 0;
  const gateway = {
    readableChannels: async () => {
      sessions += 1;
      await options.hold;
      return [CHANNEL];
    },
    messagesPage: async (_channelId: string, from: { after: string } | { before: string }, limit: number) => {
      pages.push({ ...from, limit });
      if ('before' in from && options.emptyLookBack) return [];
      const page =
        'after' in from
          ? channel.filter((message) => BigInt(message.id) > BigInt(from.after)).slice(0, limit)
          : channel.filter((message) => BigInt(message.id) < BigInt(from.before)).slice(-limit);
      return page.map(({ gone: _gone, ...message }) => message as unknown as APIMessage);
    },
  } as unknown as DiscordGateway;
  const store = {
    newestIn: async () => LAST_RECORDED.toString(),
    shownBetween: async () => records,
  } as unknown as MessageImageStore;
  const images = {
    recordEvent: async (packet: GatewayDispatchPayload) => void recorded.push(`${packet.t} ${(packet.d as { id: string }).id}`),
  } as unknown as MessageImageService;
  const config = loadConfig({ SYSTEM_TOKEN: 'a-long-enough-system-token', DISCORD_CATCH_UP_LIMIT: String(options.limit) });
  const created = (list: string[]) => list.map((id) => `MESSAGE_CREATE ${id}`);
  return { catchUp: new MessageCatchUp(config, gateway, store, images), ids, pages, recorded, created, sessions: () => sessions };
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
    const { catchUp, ids, pages, recorded, created } = world({ missed: 150, limit: 200 });
    await catchUp.shardReady(0);
    expect(recorded).toEqual(created(ids));
    expect(pages.filter((page) => page.after)).toEqual([
      { after: LAST_RECORDED.toString(), limit: 100 },
      { after: ids[99], limit: 100 },
    ]);
    expect(limitWarnings()).toEqual([]);
  });

  it('stops at the limit, asking one message past it to tell whether more were missed', async () => {
    const small = world({ missed: 5, limit: 3 });
    await small.catchUp.shardReady(0);
    expect(small.recorded).toEqual(small.created(small.ids.slice(0, 3)));
    expect(small.pages.filter((page) => page.after)).toEqual([{ after: LAST_RECORDED.toString(), limit: 4 }]);
    expect(limitWarnings()).toHaveLength(1);

    const exact = world({ missed: 3, limit: 3 });
    await exact.catchUp.shardReady(0);
    expect(exact.recorded).toEqual(exact.created(exact.ids));
    expect(limitWarnings()).toHaveLength(1);
  });

  it('asks once more when the limit ends on a full page of 100', async () => {
    const exact = world({ missed: 200, limit: 200 });
    await exact.catchUp.shardReady(0);
    expect(exact.recorded).toHaveLength(200);
    expect(exact.pages.filter((page) => page.after).map((page) => page.limit)).toEqual([100, 100, 1]);
    expect(limitWarnings()).toEqual([]);

    const over = world({ missed: 201, limit: 200 });
    await over.catchUp.shardReady(0);
    expect(over.recorded).toEqual(over.created(over.ids.slice(0, 200)));
    expect(limitWarnings()).toHaveLength(1);
  });

  it('records a delete for a recorded message gone from the latest 100, an edit for one edited since its record', async () => {
    const editedAt = new Date('2026-11-30T10:00:00Z');
    const { catchUp, pages, recorded } = world({
      missed: 1,
      limit: 200,
      recorded: [
        { id: LAST_RECORDED - 3n, gone: true },
        { id: LAST_RECORDED - 2n, editedAt, editedSince: new Date('2026-11-30T11:00:00Z') },
        { id: LAST_RECORDED - 1n, editedAt, editedSince: editedAt },
      ],
    });
    await catchUp.shardReady(0);
    expect(pages[0]).toEqual({ before: (LAST_RECORDED + 1n).toString(), limit: 100 });
    expect(recorded).toEqual([
      `MESSAGE_DELETE ${LAST_RECORDED - 3n}`,
      `MESSAGE_UPDATE ${LAST_RECORDED - 2n}`,
      `MESSAGE_CREATE ${LAST_RECORDED + 1n}`,
    ]);
  });

  it('leaves records older than a full page of the latest 100 alone', async () => {
    const recordedBefore = Array.from({ length: 120 }, (_, index) => ({ id: LAST_RECORDED - 120n + BigInt(index) }));
    // The oldest twenty are not in the page (it holds the latest 100 up to the last record), though they still exist.
    const { catchUp, recorded } = world({ missed: 0, limit: 200, recorded: recordedBefore });
    await catchUp.shardReady(0);
    expect(recorded).toEqual([]);
  });

  it('deletes nothing when Discord answers the look back with an empty page', async () => {
    // As Discord answers a bot that lost Read Message History: every message gone, to all appearances.
    const { catchUp, recorded } = world({ missed: 0, limit: 200, recorded: [{ id: LAST_RECORDED - 1n }], emptyLookBack: true });
    await catchUp.shardReady(0);
    expect(recorded).toEqual([]);
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
