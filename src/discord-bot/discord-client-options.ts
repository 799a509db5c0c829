import { GatewayIntentBits, Partials } from 'discord.js';

/** A bot that only shows presence (Drone, Notify): guilds, and nothing it would have to read. */
export const PRESENCE_INTENTS = [GatewayIntentBits.Guilds];

/** A bot that keeps messages as images: guilds, their messages, and the (privileged) content of those messages. */
export const BOT_INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent];

/**
 * Edits and deletes of messages sent before the last restart are not in any cache; without these partials
 * discord.js would drop those events.
 */
export const BOT_PARTIALS = [Partials.Message, Partials.Channel];
