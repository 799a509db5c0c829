import { GatewayIntentBits, Options, Partials, type ClientOptions, type IntentsBitField } from 'discord.js';
import { errorMessage } from '../common/errors';
import { WHERE_THE_TOKEN_IS } from '../discord-api/discord-invite';
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

/** Messages discord.js keeps per channel, and for how long (see BOT_MESSAGE_CACHE). */
export const MESSAGE_CACHE_PER_CHANNEL = 50;
export const MESSAGE_CACHE_LIFETIME_S = 30 * 60;
const MESSAGE_SWEEP_INTERVAL_S = 10 * 60;

/**
 * What discord.js keeps of the messages it sees. Herald draws from the recorded gateway payloads, not from this cache;
 * it is only where a reply's referenced message (which Discord sends inside the reply, and discord.js caches from it)
 * is found before asking REST. discord.js's default keeps 200 messages a channel for ever: about 2 KiB each, 40 MiB
 * for 100 busy channels, growing with every channel the bot watches until the process is restarted. Now at most
 * MESSAGE_CACHE_PER_CHANNEL a channel, and none older than MESSAGE_CACHE_LIFETIME_S (swept every 10 minutes).
 */
export const BOT_MESSAGE_CACHE: Pick<ClientOptions, 'makeCache' | 'sweepers'> = {
  makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: MESSAGE_CACHE_PER_CHANNEL }),
  sweepers: { ...Options.DefaultSweeperSettings, messages: { interval: MESSAGE_SWEEP_INTERVAL_S, lifetime: MESSAGE_CACHE_LIFETIME_S } },
};

/**
 * discord.js's shard options. With "auto" it asks GET /gateway/bot for the count; @discordjs/ws then identifies the
 * shards it holds no faster than session_start_limit.max_concurrency allows (its default identify throttler).
 */
export function clientSharding(sharding: DiscordSharding): Pick<ClientOptions, 'shards' | 'shardCount'> {
  if (sharding.count === 'auto') return { shards: 'auto' };
  const ids = sharding.ids === 'all' ? Array.from({ length: sharding.count }, (_, id) => id) : sharding.ids;
  return { shards: ids, shardCount: sharding.count };
}

/** The privileged intents, as the Developer Portal labels their switches (your application → Bot). */
const PRIVILEGED_INTENTS: ReadonlyArray<[GatewayIntentBits, string]> = [
  [GatewayIntentBits.MessageContent, 'Message Content Intent'],
  [GatewayIntentBits.GuildMembers, 'Server Members Intent'],
  [GatewayIntentBits.GuildPresences, 'Presence Intent'],
];

/**
 * Why a login failed, in words an operator can act on. Two failures never pass by themselves: Discord refusing the
 * token, and refusing a privileged intent (gateway close 4014) the portal has not switched on; discord.js reports
 * them as "An invalid token was provided." / "Authentication failed" and "Used disallowed intents", which say
 * neither what to change nor where. `yours` is true for those two.
 */
export function loginFailure(error: unknown, intents: IntentsBitField): { reason: string; yours: boolean } {
  const said = errorMessage(error);
  if ((error as { code?: unknown }).code === 'TokenInvalid' || said === 'Authentication failed') {
    return {
      reason: `Discord refused DISCORD_TOKEN (${said}): set it to the bot's token from ${WHERE_THE_TOKEN_IS}`,
      yours: true,
    };
  }
  if (said === 'Used disallowed intents') {
    const asked = PRIVILEGED_INTENTS.filter(([bit]) => intents.has(bit)).map(([, label]) => label);
    const switches = asked.length > 0 ? asked.join(' and ') : 'a privileged intent';
    return {
      reason:
        `Discord refused the ${switches} (gateway close 4014): switch it on in the Discord Developer Portal (your ` +
        'application → Bot → Privileged Gateway Intents); Herald keeps trying and connects once it is on. Message ' +
        'images (DISCORD_RENDER_MESSAGES, DISCORD_CHANNEL_ALLOWLIST) need the Message Content Intent',
      yours: true,
    };
  }
  return { reason: said, yours: false };
}
