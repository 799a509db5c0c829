import { ObjectStorage } from '../../src/storage/object-storage';
import { BackendReceiver } from '../stand-ins/backend/backend-receiver';
import { startDiscordStandIn, type DiscordStandIn, type UserMessage } from '../stand-ins/discord';
import { bootHerald, type HeraldUnderTest } from '../support/app';
import { requireEnv } from '../support/servers';

/** Herald with its Discord bot on, connected to the Discord stand-in, calling back a recording backend. */
export interface BotWorld {
  discord: DiscordStandIn;
  backend: BackendReceiver;
  herald: HeraldUnderTest;
  storage(): ObjectStorage;
  /** Posts as a person and waits until the backend has heard `created` for it. */
  post(message: Omit<UserMessage, 'channelId'> & { channelId?: string }): Promise<{ id: string; urn: string }>;
  /** Stops Herald and starts it again on the same database and bucket; waits until the new bot is connected. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export function botEnv(discord: DiscordStandIn, backend: { url: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HERALD_ROLES: 'api,discord',
    DISCORD_TOKEN: discord.token,
    DISCORD_RENDER_MESSAGES: 'true',
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_CDN_URL: discord.cdnUrl,
    // Avatars, custom emoji and attachments come from the stand-in's CDN.
    RENDER_FETCH_ALLOWLIST: new URL(discord.cdnUrl).host,
    BACKEND_URL: backend.url,
    DISCORD_PRESENCE_INTERVAL_MS: '1000',
    OUTBOX_POLL_INTERVAL_MS: '200',
    OUTBOX_BACKOFF_BASE_MS: '200',
    OUTBOX_BACKOFF_MAX_MS: '1500',
    ...extra,
  };
}

export async function startBotWorld(extraEnv: Record<string, string> = {}): Promise<BotWorld> {
  const discord = await startDiscordStandIn();
  const backend = await BackendReceiver.start(requireEnv('TEST_SYSTEM_TOKEN'));
  let herald = await bootHerald(botEnv(discord, backend, extraEnv));
  await discord.waitForIdentify(1);
  const world: BotWorld = {
    discord,
    backend,
    get herald() {
      return herald;
    },
    storage: () => herald.app.get(ObjectStorage),
    async post(message) {
      const sent = discord.messageCreate({ channelId: discord.channels.general.id, ...message });
      const created = await backend.waitFor({ messageId: sent.id, event: 'created' });
      return { id: sent.id, urn: created.urn ?? '' };
    },
    async restart() {
      const identified = discord.identifyCount;
      await herald.close();
      herald = await bootHerald(herald.env, { fresh: false });
      await discord.waitForIdentify(identified + 1);
    },
    async close() {
      await herald?.close();
      await backend.stop();
      await discord.stop();
    },
  };
  return world;
}
