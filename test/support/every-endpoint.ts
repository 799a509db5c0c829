import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { VkStandIn } from '../stand-ins/vk/vk-stand-in';
import { bootHerald, type HeraldUnderTest } from './app';
import { requireEnv } from './servers';

export interface EveryEndpointWorld {
  herald: HeraldUnderTest;
  discord: DiscordStandIn;
  vk: VkStandIn;
  close(): Promise<void>;
}

/**
 * Herald with every HTTP endpoint switched on (render, metrics, notify, Drone, VK), against the real servers and
 * the Discord and VK stand-ins: what the OpenAPI document and a client of the whole API see.
 */
export async function bootEveryEndpoint(extra: Record<string, string> = {}): Promise<EveryEndpointWorld> {
  const discord = await startDiscordStandIn();
  const vk = await VkStandIn.start();
  const herald = await bootHerald({
    HERALD_ROLES: 'api',
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
    NOTIFY_DEFAULT_CHANNEL_ID: discord.channels.general.id,
    DRONE_WEBHOOK_SECRET: 'drone-shared-secret-for-tests',
    DRONE_CHANNEL_ID: discord.channels.general.id,
    VK_TOKEN: vk.token,
    VK_GROUP_ID: String(vk.groupId),
    VK_API_URL: vk.apiUrl,
    AMQP_URL: requireEnv('TEST_AMQP_URL'),
    BROWSER_POOL_SIZE: '1',
    OUTBOX_BACKOFF_BASE_MS: '100',
    OUTBOX_BACKOFF_MAX_MS: '1000',
    OUTBOX_POLL_INTERVAL_MS: '200',
    ...extra,
  });
  return {
    herald,
    discord,
    vk,
    close: async () => {
      await herald.close();
      await vk.close();
      await discord.stop();
    },
  };
}
