import { Sweepers, type TextChannel } from 'discord.js';
import { botClientPerSuite, nextMessage } from '../../test/support/discord-client';
import { MESSAGE_CACHE_LIFETIME_S, MESSAGE_CACHE_PER_CHANNEL } from './discord-client-options';

jest.setTimeout(60_000);

// A real discord.js client with the bot's options, fed by the Discord stand-in's gateway.
describe("the bot's message cache", () => {
  const bot = botClientPerSuite();

  const general = () => bot.client.channels.cache.get(bot.standIn.channels.general.id) as TextChannel;

  it('keeps at most MESSAGE_CACHE_PER_CHANNEL messages of a channel, the latest, however many it sees', async () => {
    const count = MESSAGE_CACHE_PER_CHANNEL + 30;
    const last = nextMessage(bot.client, (message) => message.content === `status ${count}`);
    const sent = Array.from({ length: count }, (_, index) =>
      bot.standIn.messageCreate({ channelId: bot.standIn.channels.general.id, author: bot.standIn.users.alice, content: `status ${index + 1}` }),
    );
    await last;
    const cached = general().messages.cache;
    expect(cached.size).toBe(MESSAGE_CACHE_PER_CHANNEL);
    expect(cached.has(sent[count - 1].id)).toBe(true);
    expect(cached.has(sent[0].id)).toBe(false);
  });

  it('has a sweep scheduled that drops messages older than MESSAGE_CACHE_LIFETIME_S, and keeps younger ones', async () => {
    expect(bot.client.sweepers.intervals.messages).not.toBeNull();
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
    const old = bot.standIn.messageCreate({
      channelId: bot.standIn.channels.announcements.id,
      author: bot.standIn.users.bob,
      content: 'from before lunch',
      timestamp: minutesAgo(45),
    });
    const young = nextMessage(bot.client, (message) => message.content === 'just now');
    const recent = bot.standIn.messageCreate({
      channelId: bot.standIn.channels.announcements.id,
      author: bot.standIn.users.bob,
      content: 'just now',
      timestamp: minutesAgo(5),
    });
    await young;
    // What the scheduled sweep runs (discord.js's filter with the lifetime the bot's client was given), run now.
    const scheduled = bot.client.options.sweepers?.messages;
    const lifetime = scheduled && 'lifetime' in scheduled ? scheduled.lifetime : undefined;
    expect(lifetime).toBe(MESSAGE_CACHE_LIFETIME_S);
    bot.client.sweepers.sweepMessages(Sweepers.outdatedMessageSweepFilter(lifetime)()!);
    const cached = (bot.client.channels.cache.get(bot.standIn.channels.announcements.id) as TextChannel).messages.cache;
    expect(cached.has(old.id)).toBe(false);
    expect(cached.has(recent.id)).toBe(true);
  });
});
