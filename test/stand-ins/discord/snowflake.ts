import type { Snowflake } from 'discord-api-types/v10';

/** Discord's epoch (2015-01-01T00:00:00Z); a snowflake's top 42 bits are milliseconds since it. */
export const DISCORD_EPOCH = 1_420_070_400_000n;

/**
 * Makes ids the way Discord does, so discord.js can read creation times back out of them
 * (`Message#createdTimestamp` comes from the id, not from the payload).
 */
export class SnowflakeGenerator {
  private increment = 0n;
  private readonly worker = 1n;

  next(at: Date | number = Date.now()): Snowflake {
    const ms = BigInt(typeof at === 'number' ? at : at.getTime()) - DISCORD_EPOCH;
    this.increment = (this.increment + 1n) & 0xfffn;
    return ((ms << 22n) | (this.worker << 17n) | this.increment).toString();
  }
}

export function snowflakeTime(id: Snowflake): Date {
  return new Date(Number((BigInt(id) >> 22n) + DISCORD_EPOCH));
}
