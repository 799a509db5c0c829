import type { Client, Message } from 'discord.js';
import { startDiscordStandIn, type DiscordStandIn, type UserMessage } from '../../test/stand-ins/discord';
import { loggedInBotClient, nextMessage } from '../../test/support/discord-client';
import { loadConfig } from '../config/config';
import { DiscordGateway } from './discord-gateway';
import { MessageImageService } from './message-image.service';
import type { MessageImageStore } from './message-image.store';
import type { MessageImageWorker } from './message-image.worker';
import type { MessageSnapshot } from './message-snapshot';

jest.setTimeout(60_000);

/** Which messages get an image: checked on real discord.js messages, with MongoDB and the worker swapped out. */
describe('MessageImageService: which messages are rendered', () => {
  let standIn: DiscordStandIn;
  let client: Client;

  beforeAll(async () => {
    standIn = await startDiscordStandIn();
    client = await loggedInBotClient(standIn);
  });

  afterAll(async () => {
    await client?.destroy();
    await standIn?.stop();
  });

  function serviceWith(env: Record<string, string> = {}) {
    const recorded: MessageSnapshot[] = [];
    const store = {
      recordNew: async (snapshot: MessageSnapshot) => {
        recorded.push(snapshot);
        return true;
      },
    } as unknown as MessageImageStore;
    const worker = { runNow: async () => undefined } as unknown as MessageImageWorker;
    const config = loadConfig({ SYSTEM_TOKEN: 'a-long-enough-system-token', DISCORD_TOKEN: standIn.token, S3_BUCKET: 'images', ...env });
    return { service: new MessageImageService(config, new DiscordGateway(client, config), store, worker), recorded };
  }

  async function received(message: UserMessage): Promise<Message> {
    const arrived = nextMessage(client, (candidate) => candidate.content === message.content);
    if (message.author.id === standIn.bot.id) {
      await (client.channels.cache.get(message.channelId) as { send(content: string): Promise<unknown> }).send(message.content ?? '');
    } else {
      standIn.messageCreate(message);
    }
    return arrived;
  }

  it("renders people's messages and skips the bot's own and, by default, other bots'", async () => {
    const { service, recorded } = serviceWith();
    const general = standIn.channels.general.id;
    await service.messageCreated(await received({ channelId: general, author: standIn.users.alice, content: 'from a person' }));
    await service.messageCreated(await received({ channelId: general, author: standIn.bot, content: 'from Herald itself' }));
    await service.messageCreated(await received({ channelId: general, author: standIn.users.relay, content: 'from another bot' }));
    expect(recorded.map((snapshot) => snapshot.input.content)).toEqual(['from a person']);
  });

  it("renders other bots' messages when DISCORD_RENDER_BOT_MESSAGES is on, never its own", async () => {
    const { service, recorded } = serviceWith({ DISCORD_RENDER_BOT_MESSAGES: 'true' });
    const general = standIn.channels.general.id;
    await service.messageCreated(await received({ channelId: general, author: standIn.users.relay, content: 'relay again' }));
    await service.messageCreated(await received({ channelId: general, author: standIn.bot, content: 'Herald again' }));
    expect(recorded.map((snapshot) => snapshot.input.content)).toEqual(['relay again']);
  });

  it('renders only the allowlisted channels when DISCORD_CHANNEL_ALLOWLIST is set', async () => {
    const { general, builds } = standIn.channels;
    const { service, recorded } = serviceWith({ DISCORD_CHANNEL_ALLOWLIST: builds.id });
    await service.messageCreated(await received({ channelId: general.id, author: standIn.users.bob, content: 'in general' }));
    await service.messageCreated(await received({ channelId: builds.id, author: standIn.users.bob, content: 'in builds' }));
    expect(recorded.map((snapshot) => snapshot.channelId)).toEqual([builds.id]);
  });
});
