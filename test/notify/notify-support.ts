import request from 'supertest';
import type { DiscordStandIn } from '../stand-ins/discord';
import { eventually, type HeraldUnderTest } from '../support/app';

/** Environment for a Herald that talks to the Discord stand-in and retries quickly. */
export function notifyEnv(discord: DiscordStandIn, extra: Record<string, string> = {}): Record<string, string> {
  return {
    HERALD_ROLES: 'api',
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.apiUrl,
    OUTBOX_BACKOFF_BASE_MS: '100',
    OUTBOX_BACKOFF_MAX_MS: '1000',
    OUTBOX_POLL_INTERVAL_MS: '200',
    // Notifications need no browser; not launching Chromium spares the CPU the whole suite shares.
    BROWSER_EXECUTABLE_PATH: '/nonexistent/chromium',
    ...extra,
  };
}

export interface NotificationView {
  id: string;
  state: 'queued' | 'sent' | 'failed' | 'deleted';
  pending: 'create' | 'edit' | 'delete' | null;
  channelId: string;
  messageId: string | null;
  attempts: number;
  lastError: { message: string; status?: number; code?: number; at: string } | null;
}

/** A client of Herald's notify API, as a cron job would use it. */
export function notifyClient(herald: HeraldUnderTest) {
  const auth = { Authorization: `Bearer ${herald.token}` };
  return {
    post: (body: object, headers: Record<string, string> = {}) => request(herald.url).post('/notify').set(auth).set(headers).send(body),
    get: (id: string) => request(herald.url).get(`/notify/${id}`).set(auth),
    patch: (id: string, body: object) => request(herald.url).patch(`/notify/${id}`).set(auth).send(body),
    delete: (id: string) => request(herald.url).delete(`/notify/${id}`).set(auth),

    /** POSTs and insists on a 202; returns the notification id. */
    async send(body: object, headers: Record<string, string> = {}): Promise<string> {
      const response = await this.post(body, headers);
      if (response.status !== 202) throw new Error(`POST /notify answered ${response.status}: ${JSON.stringify(response.body)}`);
      return (response.body as { id: string }).id;
    },

    async view(id: string): Promise<NotificationView> {
      const response = await this.get(id);
      if (response.status !== 200) throw new Error(`GET /notify/${id} answered ${response.status}`);
      return response.body as NotificationView;
    },

    /** Waits until the notification satisfies `done`, e.g. reached a state. */
    async until(id: string, done: (view: NotificationView) => boolean, timeoutMs = 60_000): Promise<NotificationView> {
      return eventually(
        async () => {
          const view = await this.view(id);
          return done(view) ? view : undefined;
        },
        timeoutMs,
        150,
      );
    },
  };
}

/** The text of every live message in a channel, oldest first (a message shorthand arrives as content). */
export function texts(discord: DiscordStandIn, channelId: string, prefix = ''): string[] {
  return discord
    .messages(channelId)
    .map((stored) => stored.message.content)
    .filter((content) => content.startsWith(prefix));
}

export async function waitForTexts(discord: DiscordStandIn, channelId: string, prefix: string, count: number, timeoutMs = 90_000): Promise<string[]> {
  return eventually(
    () => {
      const seen = texts(discord, channelId, prefix);
      return seen.length >= count ? seen : undefined;
    },
    timeoutMs,
    100,
  );
}
