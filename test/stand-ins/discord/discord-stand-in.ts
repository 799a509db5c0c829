import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GatewayDispatchEvents,
  type APIEmbed,
  type APIEmoji,
  type APIRole,
  type APITextChannel,
  type APIUser,
  type GatewayGuildCreateDispatchData,
  type GatewayMessageCreateDispatchData,
  type Snowflake,
} from 'discord-api-types/v10';
import { StandInGateway, type PrivilegedIntents, type RecordedPresence } from './gateway';
import { buildGuild, type GuildModel, type GuildOptions } from './guild-fixture';
import { MessageStore, type NewAttachment, type StoredMessage } from './message-store';
import { StandInInteractions, type InteractionRecord } from './interactions';
import { SnowflakeGenerator } from './snowflake';
import { StandInRest, type FailureRule, type RecordedRequest } from './rest-api';

export interface DiscordStandInOptions {
  /** The bot token the stand-in accepts (REST `Authorization: Bot <token>`, gateway IDENTIFY). */
  token?: string;
  botUsername?: string;
  guild?: GuildOptions;
  /** More guilds the bot is in (each needs its own `id`); with sharding, each goes to the shard of its id. */
  otherGuilds?: GuildOptions[];
  /** GET /gateway/bot's recommended shard count (default 1). */
  shards?: number;
  /** GET /gateway/bot's session_start_limit.max_concurrency (default 1). */
  maxConcurrency?: number;
  /** HELLO's heartbeat_interval; Discord's is 41250 ms. */
  heartbeatIntervalMs?: number;
  /**
   * The privileged intents the developer portal has switched on (default: Message Content and Server Members, not
   * Presence). IDENTIFY asking for one that is off is closed with 4014, as Discord does.
   */
  privilegedIntents?: Partial<PrivilegedIntents>;
  /** A bot nobody has added to a server yet: READY lists no guild and no GUILD_CREATE follows. */
  botInNoServer?: boolean;
  /** 0 (default) picks a free port. */
  port?: number;
}

/** A message a person (or another bot) writes, as a test describes it. */
export interface UserMessage {
  channelId: Snowflake;
  author: APIUser;
  content?: string;
  embeds?: APIEmbed[];
  attachments?: NewAttachment[];
  /** Makes it a reply to that message (which must be in the same channel). */
  replyTo?: Snowflake;
  /** When it was sent; fix it for golden images, the message id follows from it. */
  timestamp?: Date;
}

export interface UserMessageChange {
  content?: string;
  embeds?: APIEmbed[];
  keepAttachmentIds?: Snowflake[];
  addAttachments?: NewAttachment[];
  editedAt?: Date;
}

export interface WaitOptions {
  timeoutMs?: number;
}

export interface DiscordStandIn {
  /** What goes into discord.js `rest: { api }` and Herald's DISCORD_API_URL: http://127.0.0.1:PORT/api */
  readonly apiUrl: string;
  /** What goes into discord.js `rest: { cdn }`: avatars, emoji and attachments are served here. */
  readonly cdnUrl: string;
  /** ws://127.0.0.1:PORT/gateway, as GET /gateway/bot answers. */
  readonly gatewayUrl: string;
  readonly token: string;
  readonly guild: GatewayGuildCreateDispatchData;
  /** The bot's own user. */
  readonly bot: APIUser;
  /** The bot's application (READY's `application.id`; the invite link's `client_id`). */
  readonly applicationId: string;
  readonly users: Readonly<Record<string, APIUser>>;
  readonly roles: Readonly<Record<string, APIRole>>;
  readonly channels: Readonly<Record<string, APITextChannel>>;
  readonly emojis: Readonly<Record<string, APIEmoji>>;
  /** The other guilds (DiscordStandInOptions.otherGuilds), with their channels and users. */
  readonly otherGuilds: readonly GuildModel[];
  /** Shards ([id, count]) of the connected sessions. */
  readonly connectedShards: Array<[number, number]>;
  /** Every IDENTIFY's shard, oldest first. */
  readonly identifiedShards: ReadonlyArray<[number, number]>;

  /** Messages in a channel, oldest first; deleted ones only when asked. */
  messages(channelId: Snowflake, options?: { includeDeleted?: boolean }): StoredMessage[];
  message(channelId: Snowflake, messageId: Snowflake): StoredMessage | undefined;

  /** Stores a message without telling the gateway, e.g. history that existed before the bot connected. */
  seedMessage(message: UserMessage): GatewayMessageCreateDispatchData;
  /** Edits a message without telling the gateway (an edit made while no bot was connected). */
  seedEdit(channelId: Snowflake, messageId: Snowflake, change: UserMessageChange): GatewayMessageCreateDispatchData;
  /** Deletes a message without telling the gateway (a delete made while no bot was connected). */
  seedDelete(channelId: Snowflake, messageId: Snowflake): void;
  /** Someone posts: stores it and dispatches MESSAGE_CREATE. Throws when no bot session is there to receive it. */
  messageCreate(message: UserMessage): GatewayMessageCreateDispatchData;
  messageUpdate(channelId: Snowflake, messageId: Snowflake, change: UserMessageChange): GatewayMessageCreateDispatchData;
  messageDelete(channelId: Snowflake, messageId: Snowflake): void;
  messageDeleteBulk(channelId: Snowflake, messageIds: Snowflake[]): void;
  /**
   * A role is made in the first guild and given to people (GUILD_ROLE_CREATE); their next messages carry it.
   * `withoutColors` sends it as Discord did before role gradients: `color` only, no `colors` object, which
   * discord.js 14.28 reads as if it were always there (a member's displayColor then throws).
   */
  roleCreate(role: { name: string; colour: number; members: APIUser[]; withoutColors?: boolean }): APIRole;
  /** The role as Discord has it now, with its `colors` object (GUILD_ROLE_UPDATE). */
  roleRestore(roleId: Snowflake): APIRole;

  /** Presences the bot asked for, oldest first (IDENTIFY's initial one and every op 3). */
  readonly presences: readonly RecordedPresence[];
  waitForPresence(matches: (presence: RecordedPresence) => boolean, options?: WaitOptions): Promise<RecordedPresence>;
  /** Resolves once at least `count` IDENTIFYs happened in total and a session is connected. */
  waitForIdentify(count?: number, options?: WaitOptions): Promise<void>;
  readonly identifyCount: number;
  readonly resumeCount: number;
  readonly connectedSessions: number;
  /** The intents each connected session identified with (GatewayIntentBits flags). */
  readonly connectedIntents: readonly number[];
  /** Closes gateway connections as a network drop would (the client resumes). */
  dropConnections(code?: number): void;
  invalidateSessions(): void;
  /** Flips privileged intents' switches in the "developer portal": later IDENTIFYs are judged by them. */
  switchPrivilegedIntents(change: Partial<PrivilegedIntents>): void;
  /** Someone adds a `botInNoServer` bot to the stand-in's guild: GUILD_CREATE, and its messages reach the bot. */
  addBotToServer(): void;

  failNext(rule: FailureRule): void;
  /** CDN requests whose path matches are answered only after release() (a slow CDN, e.g. for a slow render). */
  holdCdn(match: RegExp): { release(): void; requested(): number };
  /** REST calls on this channel answer 404 Unknown Channel (10003). */
  unknownChannel(channelId: Snowflake): void;
  /** REST calls on this channel answer 403 Missing Access (50001). */
  missingAccess(channelId: Snowflake): void;
  restoreChannel(channelId: Snowflake): void;
  clearFailures(): void;
  readonly requests: readonly RecordedRequest[];
  requestCount(filter?: { method?: string; path?: string | RegExp; status?: number }): number;

  /** Application commands and interactions: registered commands, members running them, and the answers. */
  readonly interactions: StandInInteractions;
  /** A member runs a command / clicks: shorthand for interactions.* that also waits for the record to exist. */
  interaction(id: string): InteractionRecord | undefined;

  /** Polls `probe` until it returns something other than undefined/false. */
  waitFor<T>(probe: () => T | undefined | false, options?: WaitOptions & { what?: string }): Promise<T>;
  stop(): Promise<void>;
}

export async function startDiscordStandIn(options: DiscordStandInOptions = {}): Promise<DiscordStandIn> {
  const standIn = new StandIn(options);
  await standIn.listen(options.port ?? 0);
  return standIn;
}

const BOT_ID = '1100000000000000001';
const APPLICATION_ID = '1100000000000000001';

class StandIn implements DiscordStandIn {
  readonly token: string;
  readonly guild: GatewayGuildCreateDispatchData;
  readonly bot: APIUser;
  readonly applicationId = APPLICATION_ID;
  readonly users: Readonly<Record<string, APIUser>>;
  readonly roles: Readonly<Record<string, APIRole>>;
  readonly channels: Readonly<Record<string, APITextChannel>>;
  readonly emojis: Readonly<Record<string, APIEmoji>>;
  readonly otherGuilds: readonly GuildModel[];
  private readonly model: GuildModel;
  private readonly store: MessageStore;
  private readonly gateway: StandInGateway;
  private readonly rest: StandInRest;
  readonly interactions: StandInInteractions;
  private readonly server: Server;
  private port = 0;

  constructor(options: DiscordStandInOptions) {
    this.token = options.token ?? 'stand-in-bot-token';
    this.model = buildGuild(options.guild ?? {}, {
      id: BOT_ID,
      username: options.botUsername ?? 'Herald',
      applicationId: APPLICATION_ID,
    });
    this.guild = this.model.guild;
    this.bot = this.model.bot;
    this.users = this.model.users;
    this.roles = this.model.roles;
    this.channels = this.model.channels;
    this.emojis = this.model.emojis;
    this.otherGuilds = (options.otherGuilds ?? []).map((guild) =>
      buildGuild(guild, { id: BOT_ID, username: options.botUsername ?? 'Herald', applicationId: APPLICATION_ID }),
    );
    const guilds = [this.model, ...this.otherGuilds];
    const guildOf = (channelId: Snowflake): GuildModel =>
      guilds.find((guild) => Object.values(guild.channels).some((channel) => channel.id === channelId)) ?? this.model;
    this.store = new MessageStore(
      (channelId) => guildOf(channelId).guild.id,
      (userId) => guilds.map((guild) => guild.members.get(userId)).find(Boolean),
      { cdn: '', media: '' },
    );
    this.gateway = new StandInGateway({
      token: this.token,
      model: this.model,
      guilds: options.botInNoServer ? [] : guilds,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
      privilegedIntents: { messageContent: true, guildMembers: true, ...options.privilegedIntents },
      url: () => this.gatewayUrl,
    });
    this.interactions = new StandInInteractions({
      applicationId: APPLICATION_ID,
      guilds,
      store: this.store,
      gateway: this.gateway,
      cdnUrl: () => this.cdnUrl,
    });
    this.rest = new StandInRest({
      interactions: this.interactions,
      token: this.token,
      model: this.model,
      guilds,
      shards: options.shards ?? 1,
      maxConcurrency: options.maxConcurrency ?? 1,
      store: this.store,
      gateway: this.gateway,
      gatewayUrl: () => this.gatewayUrl,
    });
    this.server = createServer((request, response) => {
      this.rest.handle(request, response).catch((error: unknown) => {
        // A bug in the stand-in, not a Discord answer: make it loud in the test output.
        console.error('Discord stand-in failed to answer', request.method, request.url, error);
        if (!response.headersSent) response.writeHead(500).end();
      });
    });
    this.server.on('upgrade', (request, socket, head) => {
      if (new URL(request.url ?? '/', 'http://stand-in').pathname === '/gateway') {
        this.gateway.upgrade(request, socket, head);
      } else {
        socket.destroy();
      }
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.store.setUrls({ cdn: this.cdnUrl, media: `http://127.0.0.1:${this.port}/media` });
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get cdnUrl(): string {
    return `http://127.0.0.1:${this.port}/cdn`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  messages(channelId: Snowflake, options: { includeDeleted?: boolean } = {}): StoredMessage[] {
    return this.store.list(channelId, options.includeDeleted ?? false);
  }

  message(channelId: Snowflake, messageId: Snowflake): StoredMessage | undefined {
    return this.store.list(channelId, true).find((stored) => stored.message.id === messageId);
  }

  seedMessage(message: UserMessage): GatewayMessageCreateDispatchData {
    return this.store.create({
      channelId: message.channelId,
      author: message.author,
      content: message.content ?? '',
      ...(message.embeds && { embeds: message.embeds }),
      ...(message.attachments && { attachments: message.attachments }),
      ...(message.replyTo && { replyTo: message.replyTo }),
      ...(message.timestamp && { timestamp: message.timestamp }),
    }).message;
  }

  seedEdit(channelId: Snowflake, messageId: Snowflake, change: UserMessageChange): GatewayMessageCreateDispatchData {
    return this.store.current(this.store.edit(this.requireMessage(channelId, messageId), change));
  }

  seedDelete(channelId: Snowflake, messageId: Snowflake): void {
    this.store.markDeleted(this.requireMessage(channelId, messageId));
  }

  messageCreate(message: UserMessage): GatewayMessageCreateDispatchData {
    this.requireSession('MESSAGE_CREATE');
    const created = this.seedMessage(message);
    this.gateway.dispatch({ t: GatewayDispatchEvents.MessageCreate, d: created }, created.channel_id);
    return created;
  }

  messageUpdate(channelId: Snowflake, messageId: Snowflake, change: UserMessageChange): GatewayMessageCreateDispatchData {
    this.requireSession('MESSAGE_UPDATE');
    const message = this.seedEdit(channelId, messageId, change);
    this.gateway.dispatch({ t: GatewayDispatchEvents.MessageUpdate, d: message }, channelId);
    return message;
  }

  messageDelete(channelId: Snowflake, messageId: Snowflake): void {
    this.requireSession('MESSAGE_DELETE');
    this.seedDelete(channelId, messageId);
    this.gateway.dispatch(
      { t: GatewayDispatchEvents.MessageDelete, d: { id: messageId, channel_id: channelId, guild_id: this.guildIdOf(channelId) } },
      channelId,
    );
  }

  messageDeleteBulk(channelId: Snowflake, messageIds: Snowflake[]): void {
    this.requireSession('MESSAGE_DELETE_BULK');
    for (const messageId of messageIds) this.store.markDeleted(this.requireMessage(channelId, messageId));
    this.gateway.dispatch(
      { t: GatewayDispatchEvents.MessageDeleteBulk, d: { ids: messageIds, channel_id: channelId, guild_id: this.guildIdOf(channelId) } },
      channelId,
    );
  }

  roleCreate(options: { name: string; colour: number; members: APIUser[]; withoutColors?: boolean }): APIRole {
    this.requireSession('GUILD_ROLE_CREATE');
    const template = Object.values(this.model.roles).find((role) => role.id !== this.guild.id) ?? this.model.roles.everyone;
    const full: APIRole = {
      ...template,
      id: new SnowflakeGenerator().next(),
      name: options.name,
      color: options.colour,
      colors: { primary_color: options.colour, secondary_color: null, tertiary_color: null },
      position: Object.keys(this.model.roles).length,
      permissions: '0',
    };
    const { colors: _colors, ...withoutColors } = full;
    const sent = (options.withoutColors ? withoutColors : full) as APIRole;
    this.model.roles[options.name] = sent;
    this.guild.roles.push(sent);
    for (const user of options.members) this.model.members.get(user.id)?.roles.push(full.id);
    this.gateway.dispatch({ t: GatewayDispatchEvents.GuildRoleCreate, d: { guild_id: this.guild.id, role: sent } });
    return sent;
  }

  roleRestore(roleId: Snowflake): APIRole {
    this.requireSession('GUILD_ROLE_UPDATE');
    const role = Object.values(this.model.roles).find((candidate) => candidate.id === roleId);
    if (!role) throw new Error(`Discord stand-in: no role ${roleId}`);
    role.colors = { primary_color: role.color, secondary_color: null, tertiary_color: null };
    this.gateway.dispatch({ t: GatewayDispatchEvents.GuildRoleUpdate, d: { guild_id: this.guild.id, role } });
    return role;
  }

  get presences(): readonly RecordedPresence[] {
    return this.gateway.presences;
  }

  waitForPresence(matches: (presence: RecordedPresence) => boolean, options: WaitOptions = {}): Promise<RecordedPresence> {
    return this.waitFor(() => [...this.gateway.presences].reverse().find(matches), { ...options, what: 'a matching presence' });
  }

  async waitForIdentify(count = 1, options: WaitOptions = {}): Promise<void> {
    await this.waitFor(() => this.gateway.identifyCount >= count && this.gateway.connectedSessions > 0, {
      ...options,
      what: `IDENTIFY number ${count}`,
    });
  }

  get identifyCount(): number {
    return this.gateway.identifyCount;
  }

  get resumeCount(): number {
    return this.gateway.resumeCount;
  }

  get connectedIntents(): readonly number[] {
    return this.gateway.connectedIntents;
  }

  get connectedSessions(): number {
    return this.gateway.connectedSessions;
  }

  get connectedShards(): Array<[number, number]> {
    return this.gateway.connectedShards;
  }

  get identifiedShards(): ReadonlyArray<[number, number]> {
    return this.gateway.identifiedShards;
  }

  dropConnections(code?: number): void {
    this.gateway.dropConnections(code);
  }

  invalidateSessions(): void {
    this.gateway.invalidateSessions();
  }

  failNext(rule: FailureRule): void {
    this.rest.failNext(rule);
  }

  holdCdn(match: RegExp): { release(): void; requested(): number } {
    return this.rest.holdCdn(match);
  }

  unknownChannel(channelId: Snowflake): void {
    this.rest.unknownChannel(channelId);
  }

  missingAccess(channelId: Snowflake): void {
    this.rest.missingAccess(channelId);
  }

  switchPrivilegedIntents(change: Partial<PrivilegedIntents>): void {
    this.gateway.switchPrivilegedIntents(change);
  }

  addBotToServer(): void {
    this.gateway.joinGuild(this.model);
  }

  restoreChannel(channelId: Snowflake): void {
    this.rest.restoreChannel(channelId);
  }

  clearFailures(): void {
    this.rest.clearFailures();
  }

  get requests(): readonly RecordedRequest[] {
    return this.rest.requests;
  }

  requestCount(filter: { method?: string; path?: string | RegExp; status?: number } = {}): number {
    return this.rest.requests.filter(
      (request) =>
        (!filter.method || request.method === filter.method.toUpperCase()) &&
        (!filter.path || (typeof filter.path === 'string' ? request.path === filter.path : filter.path.test(request.path))) &&
        (filter.status === undefined || request.status === filter.status),
    ).length;
  }

  interaction(id: string): InteractionRecord | undefined {
    return this.interactions.records.get(id);
  }

  async waitFor<T>(probe: () => T | undefined | false, options: WaitOptions & { what?: string } = {}): Promise<T> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const found = probe();
      if (found !== undefined && found !== false) return found;
      if (Date.now() > deadline) {
        throw new Error(`Discord stand-in: gave up waiting for ${options.what ?? 'a condition'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    await this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private guildIdOf(channelId: Snowflake): Snowflake {
    const other = this.otherGuilds.find((guild) => Object.values(guild.channels).some((channel) => channel.id === channelId));
    return (other ?? this.model).guild.id;
  }

  private requireSession(event: string): void {
    if (!this.gateway.hasSessions) {
      throw new Error(`Discord stand-in: no bot is connected to the gateway to receive ${event}; await waitForIdentify() first`);
    }
  }

  private requireMessage(channelId: Snowflake, messageId: Snowflake): StoredMessage {
    const stored = this.store.find(channelId, messageId);
    if (!stored) throw new Error(`Discord stand-in: no message ${messageId} in channel ${channelId}`);
    return stored;
  }
}
