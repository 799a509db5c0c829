import { Client, Events, type Message } from 'discord.js';
import { BOT_INTENTS, BOT_MESSAGE_CACHE, BOT_PARTIALS } from '../../src/discord-bot/discord-client-options';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';

/** A discord.js client configured as Herald's bot (same intents, partials and message cache), logged in to the stand-in and ready. */
export async function loggedInBotClient(standIn: DiscordStandIn): Promise<Client> {
  const client = new Client({
    intents: BOT_INTENTS,
    partials: BOT_PARTIALS,
    ...BOT_MESSAGE_CACHE,
    rest: { api: standIn.apiUrl, cdn: standIn.cdnUrl },
  });
  const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
  await client.login(standIn.token);
  await ready;
  return client;
}

/** The next message the client receives that `matches`. */
export function nextMessage(client: Client, matches: (message: Message) => boolean): Promise<Message> {
  return new Promise<Message>((resolve) => {
    const listener = (candidate: Message): void => {
      if (!matches(candidate)) return;
      client.off(Events.MessageCreate, listener);
      resolve(candidate);
    };
    client.on(Events.MessageCreate, listener);
  });
}

/**
 * For a spec file: the Discord stand-in and a bot client logged in to it, started before the file's tests and stopped
 * after them. Read `standIn` and `client` inside tests and hooks (they are set in `beforeAll`).
 */
export function botClientPerSuite(): { readonly standIn: DiscordStandIn; readonly client: Client } {
  const suite = {} as { standIn: DiscordStandIn; client: Client };
  beforeAll(async () => {
    suite.standIn = await startDiscordStandIn();
    suite.client = await loggedInBotClient(suite.standIn);
  });
  afterAll(async () => {
    await suite.client?.destroy();
    await suite.standIn?.stop();
  });
  return suite;
}
