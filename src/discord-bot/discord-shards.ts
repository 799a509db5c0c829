/** Which Discord gateway shards this process holds, as read from DISCORD_SHARD_COUNT and DISCORD_SHARDS. */
export interface DiscordSharding {
  /** Shards of the whole bot; 'auto' takes Discord's recommendation from GET /gateway/bot at login. */
  count: number | 'auto';
  /** Shard ids this process connects; 'all' means every shard of `count`. */
  ids: number[] | 'all';
}

/** The shard a guild's events arrive on, as Discord routes them: (guild_id >> 22) % num_shards. */
export function shardOfGuild(guildId: string, count: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(count));
}

/**
 * Parses DISCORD_SHARDS: "0,2" (a list), "0-3" (a range), "ordinal" (this pod's StatefulSet ordinal, from
 * POD_ORDINAL or the "-N" suffix of the host name).
 */
export function parseShardIds(
  value: string | undefined,
  podOrdinal: string | undefined,
  hostname: string | undefined,
): { ids: number[] | 'all' } | { problem: string } {
  const text = value?.trim() ?? '';
  if (text === '' || text === 'all') return { ids: 'all' };
  if (text === 'ordinal') {
    const ordinal = podOrdinal?.trim() || /-(\d+)$/.exec(hostname?.trim() ?? '')?.[1];
    if (!ordinal || !/^\d+$/.test(ordinal)) {
      return { problem: `"ordinal" needs POD_ORDINAL or a host name ending in -N (a StatefulSet pod), got host name "${hostname ?? ''}"` };
    }
    return { ids: [Number(ordinal)] };
  }
  const range = /^(\d+)\s*-\s*(\d+)$/.exec(text);
  if (range) {
    const [first, last] = [Number(range[1]), Number(range[2])];
    if (last < first) return { problem: `range "${text}" ends before it starts` };
    return { ids: Array.from({ length: last - first + 1 }, (_, index) => first + index) };
  }
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => !/^\d+$/.test(item))) {
    return { problem: `must be a list of shard ids ("0,2"), a range ("0-3"), "ordinal" or "all", got "${text}"` };
  }
  const ids = items.map(Number);
  if (new Set(ids).size !== ids.length) return { problem: `lists a shard twice: "${text}"` };
  return { ids: ids.sort((a, b) => a - b) };
}
