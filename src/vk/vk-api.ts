import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type { API as VkIoApi } from 'vk-io';
import { APP_CONFIG, type AppConfig } from '../config/config';
import {
  VkErrorCode,
  type VkConversation,
  type VkConversationsResponse,
  type VkLongPollResponse,
  type VkLongPollServer,
  type VkLongPollSettings,
  type VkUser,
} from './vk-wire';

/** VK answered `{ error: { error_code } }`. */
export class VkApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly method: string,
  ) {
    super(`VK ${method} failed with error ${code}: ${message}`);
    this.name = 'VkApiError';
  }

  get isAuthFailure(): boolean {
    return this.code === VkErrorCode.AuthFailed || this.code === VkErrorCode.GroupAuthFailed || this.code === VkErrorCode.AppAuthFailed;
  }

  /**
   * The community's Long Poll API is switched off in its settings: groups.getLongPollServer answers error 100, "One of
   * the parameters specified was missing or invalid: longpoll for this group is not enabled". Not temporary, but
   * switching it on needs no restart.
   */
  get isLongPollOff(): boolean {
    return this.code === VkErrorCode.InvalidParameter && /longpoll for this group is not enabled/i.test(this.message);
  }

  /**
   * groups.getLongPollServer refused the community: error 15 ("Access denied: no access to call this method") for the
   * id of a community the token does not belong to or a token without the right to manage it, error 100 for an id
   * that is no community's. Settings, not outages: retrying alone never ends them.
   */
  get isCommunityRefused(): boolean {
    if (this.method !== 'groups.getLongPollServer') return false;
    return this.code === VkErrorCode.AccessDenied || (this.code === VkErrorCode.InvalidParameter && !this.isLongPollOff);
  }

  /** Errors VK documents as temporary: too many requests, flood control, internal error. */
  get isTransient(): boolean {
    return this.code === VkErrorCode.TooManyRequests || this.code === VkErrorCode.Flood || this.code === VkErrorCode.Internal;
  }
}

/** The long-poll server did not answer, or answered something that is not a long-poll reply. */
export class VkLongPollTransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VkLongPollTransportError';
  }
}

/** users.get takes up to 1000 ids; getConversationsById up to 100 peers. */
export const USERS_GET_MAX_IDS = 1000;
export const CONVERSATIONS_MAX_IDS = 100;

/**
 * VK behind one class: the three API methods through vk-io's `API` (its request queue, rate limit and VK error
 * parsing), and the Bots Long Poll `a_check` request, which Herald issues itself because vk-io's polling transport
 * resets `ts` on `failed: 2` (losing events) and advances `ts` before handlers have stored anything.
 */
@Injectable()
export class VkApi implements BeforeApplicationShutdown {
  private readonly agent: HttpAgent;
  private client?: VkIoApi;
  private vkIo?: typeof import('vk-io');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    // vk-io defaults to https.globalAgent, which refuses an http:// base URL (the local stand-in).
    this.agent = config.vk.apiUrl.startsWith('http:') ? new HttpAgent({ keepAlive: true }) : new HttpsAgent({ keepAlive: true });
  }

  async getLongPollServer(): Promise<VkLongPollServer> {
    const groupId = this.config.vk.groupId;
    const server = await this.call<VkLongPollServer>('groups.getLongPollServer', { group_id: groupId });
    return { key: server.key, server: server.server, ts: String(server.ts) };
  }

  /** Needs a community token with the right to manage the community; VK answers error 15 or 27 to one without. */
  getLongPollSettings(): Promise<VkLongPollSettings> {
    return this.call<VkLongPollSettings>('groups.getLongPollSettings', { group_id: this.config.vk.groupId });
  }

  async usersGet(userIds: readonly number[]): Promise<VkUser[]> {
    if (userIds.length === 0) return [];
    return this.call<VkUser[]>('users.get', { user_ids: userIds.join(','), fields: 'screen_name' });
  }

  async getConversationsById(peerIds: readonly number[]): Promise<VkConversation[]> {
    if (peerIds.length === 0) return [];
    const response = await this.call<VkConversationsResponse>('messages.getConversationsById', {
      peer_ids: peerIds.join(','),
      group_id: this.config.vk.groupId,
    });
    return response.items ?? [];
  }

  /** One `a_check` request; VK holds it up to `waitSeconds` when there is nothing new. */
  async checkLongPoll(
    server: Pick<VkLongPollServer, 'server' | 'key'>,
    ts: string,
    waitSeconds: number,
    signal: AbortSignal,
  ): Promise<VkLongPollResponse> {
    const url = new URL(server.server.includes('://') ? server.server : `https://${server.server}`);
    url.search = new URLSearchParams({ act: 'a_check', key: server.key, ts, wait: String(waitSeconds) }).toString();
    // VK answers at `wait` at the latest; past that (plus slack) the connection is dead.
    const deadline = AbortSignal.timeout((waitSeconds + 15) * 1000);
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.any([signal, deadline]) });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new VkLongPollTransportError(`long poll request failed: ${describe(error)}`);
    }
    if (!response.ok) throw new VkLongPollTransportError(`long poll server answered HTTP ${response.status}`);
    const body: unknown = await response.json().catch(() => null);
    if (!isLongPollResponse(body)) throw new VkLongPollTransportError('long poll server answered something that is not a long-poll reply');
    return body;
  }

  beforeApplicationShutdown(): void {
    this.agent.destroy();
  }

  private async call<T>(method: string, params: Record<string, unknown>): Promise<T> {
    const { client, vkIo } = this.vk();
    try {
      return await client.call(method, params);
    } catch (error) {
      if (error instanceof vkIo.APIError) throw new VkApiError(Number(error.code), error.message, method);
      throw error;
    }
  }

  /**
   * vk-io is loaded on first use: at load time it starts `import('node-fetch')` (an ES module), which rejects inside
   * a CommonJS Jest sandbox unless Node runs with --experimental-vm-modules; loading it only here keeps that away
   * from every process and test that does not talk to VK.
   */
  private vk(): { client: VkIoApi; vkIo: typeof import('vk-io') } {
    if (!this.client || !this.vkIo) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      this.vkIo = require('vk-io') as typeof import('vk-io');
      this.client = new this.vkIo.API({
        token: this.config.vk.token ?? '',
        apiBaseUrl: this.config.vk.apiUrl,
        apiVersion: this.config.vk.apiVersion,
        // vk-io types the agent as https.Agent; node-fetch takes an http.Agent for http:// URLs just the same.
        agent: this.agent as HttpsAgent,
        // Community tokens may make 20 requests per second.
        apiLimit: 20,
        apiTimeout: 15_000,
        // The poller owns retries and backoff (vk-io still waits out error 6 by itself, which is what VK asks).
        apiRetryLimit: 0,
      });
    }
    return { client: this.client, vkIo: this.vkIo };
  }
}

function isLongPollResponse(body: unknown): body is VkLongPollResponse {
  if (typeof body !== 'object' || body === null) return false;
  if ('failed' in body) return [1, 2, 3].includes(Number(body.failed));
  return 'ts' in body && Array.isArray((body as { updates?: unknown }).updates);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
