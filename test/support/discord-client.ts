import { Client, Events, type Message } from 'discord.js';
import { BOT_INTENTS, BOT_MESSAGE_CACHE, BOT_PARTIALS } from '../../src/discord-bot/discord-client-options';
import type { DiscordStandIn } from '../stand-ins/discord';

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
