import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import {
  ActivityType,
  Client,
  DiscordAPIError,
  Events,
  Message,
  MessageType,
  PermissionFlagsBits,
  RESTJSONErrorCodes,
  Routes,
  Status,
  type APIMessage,
  type ClientEvents,
  type GatewayDispatchPayload,
  type GuildMember,
  type PresenceStatusData,
} from 'discord.js';
import { APP_CONFIG, enabledFeatures, type AppConfig } from '../config/config';
import { backoffDelay } from '../common/backoff';
import { errorMessage } from '../common/errors';
import { botPermissions, inviteUrl } from '../discord-api/discord-invite';
import { loginFailure } from './discord-client-options';
import type { ObservedMessage, ReferencedMessage } from './message-snapshot';

/** Login retries back off up to this; Discord being unreachable for long is an outage, not a reason to hammer it. */
const LOGIN_RETRY_MAX_MS = 30000;
const LOGIN_RETRY_BASE_MS = 1000;

export interface ShardState {
  id: number;
  ready: boolean;
  /** discord.js's status name: Ready, Connecting, Reconnecting, Identifying, Resuming, Disconnected, ... */
  status: string;
}

/**
 * The bot's gateway connection (discord.js, logged in by necord): who the bot is, whether it is connected, its
 * presence, and the lookups a message needs before it can be rendered.
 */
@Injectable()
export class DiscordGateway implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DiscordGateway.name);
  /** Why the bot has not logged in yet (Discord unreachable, ...); null once logged in. */
  private loginProblem: string | null = 'logging in';
  private loginAttempt = 0;
  private loginTimer: NodeJS.Timeout | null = null;
  private shuttingDown = false;

  constructor(
    private readonly client: Client,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * necord logs in from onApplicationBootstrap and lets a failure reject the whole application's start, so a
   * Discord outage at start-up would take the HTTP API down with a bare ECONNREFUSED. Login is taken over here:
   * necord's call starts it, and failures are retried with backoff in the background while readiness says why.
   */
  onModuleInit(): void {
    // Once per successful login (a failed one destroys the client, and the next emits it again).
    this.on(Events.ClientReady, () => this.reportServers());
    // Joined or left while running (discord.js reports a server in an outage as unavailable, not as left).
    this.on(Events.GuildCreate, (guild) => this.logger.log({ guildId: guild.id, guildName: guild.name }, 'The bot was added to a Discord server'));
    this.on(Events.GuildDelete, (guild) =>
      this.logger.warn({ guildId: guild.id, guildName: guild.name }, 'The bot was removed from a Discord server'),
    );
    const login = this.client.login.bind(this.client);
    this.client.login = async (token?: string) => {
      this.attemptLogin(login, token);
      return token ?? '';
    };
  }

  onApplicationShutdown(): void {
    this.shuttingDown = true;
    if (this.loginTimer) clearTimeout(this.loginTimer);
  }

  private attemptLogin(login: (token?: string) => Promise<string>, token: string | undefined): void {
    this.loginAttempt++;
    login(token).then(
      () => {
        this.loginProblem = null;
        this.logger.log({ attempt: this.loginAttempt, shards: this.shards().map((shard) => shard.id) }, 'Logged in to Discord');
      },
      (error: unknown) => {
        if (this.shuttingDown) return;
        const delayMs = backoffDelay(this.loginAttempt, LOGIN_RETRY_BASE_MS, LOGIN_RETRY_MAX_MS);
        // A refused token or intent is the operator's to fix (an error); anything else may pass by itself (a warning).
        const { reason, yours } = loginFailure(error, this.client.options.intents);
        this.loginProblem = `cannot log in to Discord at ${this.config.discord.apiUrl}: ${reason} (attempt ${this.loginAttempt}, retrying)`;
        this.logger[yours ? 'error' : 'warn']({ attempt: this.loginAttempt, retryInMs: delayMs, reason }, 'Could not log in to Discord; retrying');
        this.loginTimer = setTimeout(() => this.attemptLogin(login, token), delayMs);
        this.loginTimer.unref();
      },
    );
  }

  /**
   * How many servers the bot is in, with the link that adds it to one: a new bot is in none, and until it is added
   * it reads and posts nowhere while everything else looks healthy.
   */
  private reportServers(): void {
    const applicationId = this.client.application?.id ?? this.client.user?.id;
    if (!applicationId) return;
    const features = enabledFeatures(this.config);
    const invite = inviteUrl(applicationId, botPermissions(features.messageImages), features.discordCommands);
    const servers = this.client.guilds.cache.size;
    // A process holding some shards only sees their servers; none there says nothing about the others.
    if (servers === 0 && this.client.ws.shards.size === (this.client.options.shardCount ?? 1)) {
      this.logger.warn({ servers, invite }, `The bot is in no Discord server yet; add it to yours with ${invite}`);
    } else this.logger.log({ servers, invite }, 'Discord servers the bot is in (the invite link adds it to another)');
  }

  get botUserId(): string | null {
    return this.client.user?.id ?? null;
  }

  /** Why no shard can be connected yet, or null once logged in. */
  get notLoggedInBecause(): string | null {
    return this.loginProblem;
  }

  /** The shards this process holds and whether each is connected (empty until logged in). */
  shards(): ShardState[] {
    return [...this.client.ws.shards.values()].map((shard) => ({
      id: shard.id,
      ready: shard.status === Status.Ready,
      status: Status[shard.status] ?? String(shard.status),
    }));
  }

  isConnected(): boolean {
    return this.loginProblem === null && this.shards().some((shard) => shard.ready);
  }

  isShardReady(shardId: number): boolean {
    return this.client.ws.shards.get(shardId)?.status === Status.Ready;
  }

  /**
   * Listens to a gateway event until the returned function is called. Handlers may be async: a failure is logged
   * here, since discord.js does not await listeners.
   */
  on<E extends keyof ClientEvents>(event: E, handler: (...args: ClientEvents[E]) => Promise<void> | void): () => void {
    const listener = (...args: ClientEvents[E]): void => {
      Promise.resolve()
        .then(() => handler(...args))
        .catch((error: unknown) => this.logger.error({ event, err: error }, `Could not handle ${String(event)}`));
    };
    this.client.on(event, listener);
    return () => void this.client.off(event, listener);
  }

  setPresence(shardId: number, status: PresenceStatusData, text: string): void {
    if (!this.client.user) return;
    this.client.user.setPresence({ status, shardId, activities: [{ type: ActivityType.Custom, name: text, state: text }] });
  }

  /**
   * Every gateway dispatch, handed over synchronously before discord.js reads it (its handlers then mutate the
   * payload, and may throw on a shape they do not expect). `handler` must copy what it keeps at once.
   */
  onDispatch(handler: (packet: GatewayDispatchPayload) => void): () => void {
    const listener = (packet: GatewayDispatchPayload): void => {
      try {
        handler(packet);
      } catch (error) {
        this.logger.error({ event: packet.t, err: error }, `Could not record ${packet.t}`);
      }
    };
    // 'raw' is emitted by discord.js but missing from its ClientEvents typings.
    const emitter = this.client as unknown as NodeJS.EventEmitter;
    emitter.on(Events.Raw, listener);
    return () => void emitter.off(Events.Raw, listener);
  }

  /** The channel a message was posted in, when it is in this process's cache: used to tell a thread's parent. */
  cachedParentOf(channelId: string): string | null {
    const channel = this.client.channels.cache.get(channelId);
    return channel && 'parentId' in channel ? (channel.parentId ?? null) : null;
  }

  /**
   * The channels of this shard's guilds whose history the bot may read (View Channel and Read Message History), with
   * the guild and, for a thread, its parent: text, announcement and voice channels and the threads the gateway said are
   * active. From discord.js's cache, filled by the guilds' GUILD_CREATE before the shard is ready.
   */
  async readableChannels(shardId: number): Promise<ReadableChannel[]> {
    const found: ReadableChannel[] = [];
    for (const guild of this.client.guilds.cache.values()) {
      if (guild.shardId !== shardId) continue;
      const me = guild.members.me ?? (await guild.members.fetchMe().catch(() => null));
      if (!me) continue;
      for (const channel of guild.channels.cache.values()) {
        if (!channel.isTextBased()) continue;
        if (!channel.permissionsFor(me).has(HISTORY_PERMISSIONS)) continue;
        found.push({ guildId: guild.id, channelId: channel.id, parentId: channel.isThread() ? channel.parentId : null });
      }
    }
    return found;
  }

  /**
   * A page of a channel's messages, oldest first, as REST sends them (no `guild_id`, no `member`): up to `limit` (at
   * most 100) posted right after `after`, or the latest up to `limit` posted before `before`. The order of Discord's
   * page is not relied on.
   */
  async messagesPage(channelId: string, from: { after: string } | { before: string }, limit: number): Promise<APIMessage[]> {
    const query = new URLSearchParams({ ...from, limit: String(Math.min(100, limit)) });
    const page = (await this.client.rest.get(Routes.channelMessages(channelId), { query })) as APIMessage[];
    // By value: as strings, snowflakes sort wrongly once their lengths differ.
    return page.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }

  /**
   * A discord.js message built from a recorded gateway payload, as discord.js builds it on MESSAGE_CREATE. Guild and
   * channel are fetched over REST when this process does not hold them (another shard's guild, a thread), so any bot
   * process can run the job. A payload without an author (an old-style partial update) is fetched whole. Null when
   * the channel or message no longer exists; other failures (Discord unreachable) throw and are retried.
   */
  async messageFrom(data: APIMessage & { guild_id?: string }): Promise<Message | null> {
    try {
      if (data.guild_id) await this.client.guilds.fetch(data.guild_id);
      const channel = await this.client.channels.fetch(data.channel_id);
      if (!channel?.isTextBased()) return null;
      if (!data.author) return await channel.messages.fetch(data.id);
    } catch (error) {
      if (isGone(error)) return null;
      throw error;
    }
    // The constructor is private in discord.js's typings only; its own gateway handler builds messages with it.
    const MessageFromData = Message as unknown as new (client: Client, payload: APIMessage) => Message;
    return new MessageFromData(this.client, data);
  }

  /** The author's member and the message a reply answers, fetched over REST when the gateway did not bring them. */
  async observe(message: Message<true>): Promise<ObservedMessage> {
    const [member, referenced] = await Promise.all([this.memberOf(message), this.referencedBy(message)]);
    return {
      message,
      member,
      referenced,
      emojiUrl: (id, animated) => this.client.rest.cdn.emoji(id, { extension: animated ? 'gif' : 'png', size: 64 }),
    };
  }

  private async memberOf(message: Message<true>): Promise<GuildMember | null> {
    if (message.member) return message.member;
    if (message.webhookId) return null;
    return this.fetchMember(message, message.author.id);
  }

  private async referencedBy(message: Message<true>): Promise<ReferencedMessage | null | undefined> {
    if (message.type !== MessageType.Reply || !message.reference?.messageId) return undefined;
    let referenced: Message;
    try {
      referenced = await message.fetchReference();
    } catch (error) {
      // Deleted (or never visible to the bot): Discord shows "Original message was deleted".
      this.logger.debug({ messageId: message.id, reason: errorMessage(error) }, 'Referenced message not available');
      return null;
    }
    const member = referenced.inGuild() ? (referenced.member ?? (await this.fetchMember(message, referenced.author.id))) : null;
    return { message: referenced, member };
  }

  private async fetchMember(message: Message<true>, userId: string): Promise<GuildMember | null> {
    try {
      return await message.guild.members.fetch(userId);
    } catch (error) {
      // Left the guild: the message is still shown, with the user's own name and no role colour.
      this.logger.debug({ guildId: message.guildId, userId, reason: errorMessage(error) }, 'Member not available');
      return null;
    }
  }
}

/** A channel whose messages the bot may read back (see readableChannels). */
export interface ReadableChannel {
  guildId: string;
  channelId: string;
  /** A thread's parent channel; null for any other channel. */
  parentId: string | null;
}

const HISTORY_PERMISSIONS = PermissionFlagsBits.ViewChannel | PermissionFlagsBits.ReadMessageHistory;

const GONE = new Set<number | string>([RESTJSONErrorCodes.UnknownChannel, RESTJSONErrorCodes.UnknownMessage, RESTJSONErrorCodes.UnknownGuild]);

function isGone(error: unknown): boolean {
  return error instanceof DiscordAPIError && GONE.has(error.code);
}
