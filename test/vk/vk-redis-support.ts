import { createClient } from '@redis/client';
import type { VkEvent } from '../../src/vk/vk-event';

export type RedisClient = ReturnType<typeof createClient>;

/** A connected node-redis client for a test (the same client library Herald uses). */
export async function redisClient(url: string): Promise<RedisClient> {
  const client: RedisClient = createClient({ url, socket: { reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export interface ChannelMessage {
  channel: string;
  event: VkEvent;
}

/** Subscribes to Redis channels the way a toaster router consumer did, and keeps what it heard in order. */
export class ChannelTap {
  readonly messages: ChannelMessage[] = [];
  private constructor(private readonly client: RedisClient) {}

  static async open(url: string, channels: string[]): Promise<ChannelTap> {
    const client = await redisClient(url);
    const tap = new ChannelTap(client);
    await client.subscribe(channels, (message, channel) => tap.messages.push({ channel, event: JSON.parse(message) as VkEvent }));
    return tap;
  }

  on(channel: string): VkEvent[] {
    return this.messages.filter((m) => m.channel === channel).map((m) => m.event);
  }

  find(eventId: string): ChannelMessage | undefined {
    return this.messages.find((m) => m.event.event_id === eventId);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

export interface StreamEntry {
  id: string;
  event_id: string;
  event_type: string;
  event: VkEvent;
}

/** Every entry of a stream, oldest first (XRANGE - +). */
export async function readStream(redis: RedisClient, key: string): Promise<StreamEntry[]> {
  const entries = await redis.xRange(key, '-', '+');
  return (entries ?? []).map(({ id, message }) => toEntry(id, message));
}

export function toEntry(id: string, fields: Record<string, string>): StreamEntry {
  return { id, event_id: fields.event_id ?? '', event_type: fields.event_type ?? '', event: JSON.parse(fields.event ?? 'null') as VkEvent };
}
