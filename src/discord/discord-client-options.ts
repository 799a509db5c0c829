import { GatewayIntentBits, Partials } from 'discord.js';

/** What the bot asks the gateway for: guilds, their messages, and the (privileged) content of those messages. */
export const BOT_INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent];

/**
 * Edits and deletes of messages sent before the last restart are not in any cache; without these partials
 * discord.js would drop those events.
 */
export const BOT_PARTIALS = [Partials.Message, Partials.Channel];
