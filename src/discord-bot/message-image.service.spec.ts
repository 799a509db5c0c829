import type { Message } from 'discord.js';
import type { UserMessage } from '../../test/stand-ins/discord';
import { botClientPerSuite, nextMessage } from '../../test/support/discord-client';
import { loadConfig } from '../config/config';
import { isRendered } from './message-image.service';

jest.setTimeout(60_000);

/** Which messages get an image: checked on real discord.js messages from the Discord stand-in. */
describe('isRendered: which messages get an image', () => {
  const bot = botClientPerSuite();

  function filterWith(env: Record<string, string> = {}) {
    const config = loadConfig({ SYSTEM_TOKEN: 'a-long-enough-system-token', DISCORD_TOKEN: bot.standIn.token, S3_BUCKET: 'images', ...env });
    const rendered: Message[] = [];
    return {
      rendered,
      messageCreated: (message: Message) => {
        if (isRendered(message, config, bot.client.user?.id ?? null)) rendered.push(message);
      },
    };
  }

  async function received(message: UserMessage): Promise<Message> {
    const arrived = nextMessage(bot.client, (candidate) => candidate.content === message.content);
    if (message.author.id === bot.standIn.bot.id) {
      await (bot.client.channels.cache.get(message.channelId) as { send(content: string): Promise<unknown> }).send(message.content ?? '');
    } else {
      bot.standIn.messageCreate(message);
    }
    return arrived;
  }

  it("renders people's messages and skips the bot's own and, by default, other bots'", async () => {
    const service = filterWith();
    const general = bot.standIn.channels.general.id;
    service.messageCreated(await received({ channelId: general, author: bot.standIn.users.alice, content: 'from a person' }));
    service.messageCreated(await received({ channelId: general, author: bot.standIn.bot, content: 'from Herald itself' }));
    service.messageCreated(await received({ channelId: general, author: bot.standIn.users.relay, content: 'from another bot' }));
    expect(service.rendered.map((message) => message.content)).toEqual(['from a person']);
  });

  it("renders other bots' messages when DISCORD_RENDER_BOT_MESSAGES is on, never its own", async () => {
    const service = filterWith({ DISCORD_RENDER_BOT_MESSAGES: 'true' });
    const general = bot.standIn.channels.general.id;
    service.messageCreated(await received({ channelId: general, author: bot.standIn.users.relay, content: 'relay again' }));
    service.messageCreated(await received({ channelId: general, author: bot.standIn.bot, content: 'Herald again' }));
    expect(service.rendered.map((message) => message.content)).toEqual(['relay again']);
  });

  it('renders only the allowlisted channels when DISCORD_CHANNEL_ALLOWLIST is set', async () => {
    const { general, builds } = bot.standIn.channels;
    const service = filterWith({ DISCORD_CHANNEL_ALLOWLIST: builds.id });
    service.messageCreated(await received({ channelId: general.id, author: bot.standIn.users.bob, content: 'in general' }));
    service.messageCreated(await received({ channelId: builds.id, author: bot.standIn.users.bob, content: 'in builds' }));
    expect(service.rendered.map((message) => message.channelId)).toEqual([builds.id]);
  });
});
