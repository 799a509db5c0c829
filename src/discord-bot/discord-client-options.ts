import { GatewayIntentBits, Partials, type ClientOptions } from 'discord.js';
import type { DiscordSharding } from './discord-shards';

/** A bot that only shows presence (Drone, Notify): guilds, and nothing it would have to read. */
export const PRESENCE_INTENTS = [GatewayIntentBits.Guilds];

/** A bot that keeps messages as images: guilds, their messages, and the (privileged) content of those messages. */
export const BOT_INTENTS = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent];

/**
 * Edits and deletes of messages sent before the last restart are not in any cache; without these partials
 * discord.js would drop those events.
 */
export const BOT_PARTIALS = [Partials.Message, Partials.Channel];

/**
 * discord.js's shard options. With "auto" it asks GET /gateway/bot for the count; @discordjs/ws then identifies the
 * shards it holds no faster than session_start_limit.max_concurrency allows (its default identify throttler).
 */
export function clientSharding(sharding: DiscordSharding): Pick<ClientOptions, 'shards' | 'shardCount'> {
  if (sharding.count === 'auto') return { shards: 'auto' };
  const ids = sharding.ids === 'all' ? Array.from({ length: sharding.count }, (_, id) => id) : sharding.ids;
  return { shards: ids, shardCount: sharding.count };
}
