import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  GatewayDispatchEvents,
  RESTJSONErrorCodes,
  type APIApplication,
  type APIEmbed,
  type APIGatewayBotInfo,
  type RESTAPIAttachment,
  type RESTError,
  type RESTErrorData,
  type RESTPatchAPIChannelMessageJSONBody,
  type RESTPostAPIChannelMessageJSONBody,
  type RESTRateLimit,
  type Snowflake,
} from 'discord-api-types/v10';
import type { StandInGateway } from './gateway';
import type { GuildModel } from './guild-fixture';
import { avatarPng, emojiPng } from './images';
import { InteractionFailure, type StandInInteractions } from './interactions';
import { restShape, type MessageStore, type NewAttachment, type StoredMessage } from './message-store';

/** A failure the next matching REST requests get instead of their answer. */
export interface FailureRule {
  /** HTTP status to answer with: 429 (rate limit), 500, 502, 503, 403, ... */
  status: number;
  /** How many matching requests fail; default 1. */
  times?: number;
  /** Seconds, for 429: the Retry-After header and retry_after in the body. Default 1. */
  retryAfter?: number;
  /** A global rate limit (X-RateLimit-Global) instead of a per-route one. */
  global?: boolean;
  /** Discord JSON error code for 4xx answers; default 0. */
  code?: number;
  message?: string;
  /** Only requests with this method (GET, POST, PATCH, DELETE) ... */
  method?: string;
  /** ... and a path (after /api/v10) that equals this string or matches this expression. */
  path?: string | RegExp;
  /**
   * Carry the request out first and only then answer with the failure: Discord took it (a message is created) but
   * the client never learns, as when the answer is lost or the connection drops. Only for 5xx statuses.
   */
  afterApplying?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path after /api/v10, without the query string. */
  path: string;
  /** The query string's parameters (e.g. a message page's `after` and `limit`). */
  query: Record<string, string>;
  status: number;
  at: Date;
  /** The JSON body or the multipart payload_json, when there was one. */
  json?: unknown;
  files: { field: string; filename: string; contentType: string; bytes: number }[];
}

export interface RestOptions {
  token: string;
  model: GuildModel;
  /** Every guild the bot is in, the first (`model`) included. */
  guilds: GuildModel[];
  /** GET /gateway/bot: the recommended shard count and how many shards may IDENTIFY at once. */
  shards: number;
  maxConcurrency: number;
  store: MessageStore;
  gateway: StandInGateway;
  gatewayUrl: () => string;
  interactions: StandInInteractions;
}

interface ParsedBody {
  json: unknown;
  files: (NewAttachment & { field: string })[];
}

class RestFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: RESTError | RESTRateLimit | null,
    readonly headers: Record<string, string> = {},
  ) {
    super(body && 'message' in body ? body.message : `HTTP ${status}`);
  }
}

const MAX_FILE_BYTES = 10 * 1024 * 1024;
const ROUTE_PREFIX = '/api/v10';

/** The REST half of the stand-in: /api/v10 as discord.js calls it, and the CDN the payloads point at. */
export class StandInRest {
  readonly requests: RecordedRequest[] = [];
  private readonly failures: (FailureRule & { remaining: number })[] = [];
  private readonly unknownChannels = new Set<Snowflake>();
  private readonly forbiddenChannels = new Set<Snowflake>();
  private readonly cdnHolds: { match: RegExp; released: Promise<void>; requested: number }[] = [];

  constructor(private readonly options: RestOptions) {}

  /** CDN requests whose path matches wait until release() (a slow CDN); `requested` counts the ones held. */
  holdCdn(match: RegExp): { release(): void; requested(): number } {
    let release = (): void => undefined;
    const hold = { match, released: new Promise<void>((resolve) => (release = resolve)), requested: 0 };
    this.cdnHolds.push(hold);
    return {
      release: () => {
        this.cdnHolds.splice(this.cdnHolds.indexOf(hold), 1);
        release();
      },
      requested: () => hold.requested,
    };
  }

  failNext(rule: FailureRule): void {
    this.failures.push({ ...rule, remaining: rule.times ?? 1 });
  }

  clearFailures(): void {
    this.failures.length = 0;
    this.unknownChannels.clear();
    this.forbiddenChannels.clear();
  }

  unknownChannel(channelId: Snowflake): void {
    this.unknownChannels.add(channelId);
  }

  missingAccess(channelId: Snowflake): void {
    this.forbiddenChannels.add(channelId);
  }

  restoreChannel(channelId: Snowflake): void {
    this.unknownChannels.delete(channelId);
    this.forbiddenChannels.delete(channelId);
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const method = (request.method ?? 'GET').toUpperCase();
    if (method === 'GET' && (url.pathname.startsWith('/cdn/') || url.pathname.startsWith('/media/'))) {
      const hold = this.cdnHolds.find((candidate) => candidate.match.test(url.pathname));
      if (hold) {
        hold.requested++;
        await hold.released;
      }
      return this.serveCdn(url.pathname.replace(/^\/(cdn|media)/, ''), response);
    }
    if (!url.pathname.startsWith(`${ROUTE_PREFIX}/`)) {
      return reply(response, 404, { message: '404: Not Found', code: RESTJSONErrorCodes.GeneralError });
    }
    const path = url.pathname.slice(ROUTE_PREFIX.length);
    const recorded: RecordedRequest = { method, path, query: Object.fromEntries(url.searchParams), status: 0, at: new Date(), files: [] };
    this.requests.push(recorded);
    try {
      const body = await readBody(request);
      if (body.json !== undefined) recorded.json = body.json;
      recorded.files = body.files.map((file) => ({
        field: file.field,
        filename: file.filename,
        contentType: file.contentType ?? '',
        bytes: file.data.length,
      }));
      // Interaction callbacks and their webhooks are authorised by the interaction token in the path, not the bot token.
      const byInteractionToken = path.startsWith('/interactions/') || path.startsWith('/webhooks/');
      if (path !== '/gateway' && !byInteractionToken && request.headers.authorization !== `Bot ${this.options.token}`) {
        throw new RestFailure(401, { message: '401: Unauthorized', code: RESTJSONErrorCodes.GeneralError });
      }
      this.injectFailure(method, path, false);
      const answer = byInteractionToken
        ? this.interactionRoute(method, path, url.searchParams, body)
        : this.route(method, path, url.searchParams, body);
      this.injectFailure(method, path, true);
      recorded.status = answer.status;
      reply(response, answer.status, answer.body);
    } catch (error) {
      if (!(error instanceof RestFailure)) throw error;
      recorded.status = error.status;
      reply(response, error.status, error.body, error.headers);
    }
  }

  private interactionRoute(method: string, path: string, query: URLSearchParams, body: ParsedBody): { status: number; body?: unknown } {
    const parts = path.split('/').filter(Boolean);
    try {
      if (method === 'POST' && parts[0] === 'interactions' && parts.length === 4 && parts[3] === 'callback') {
        return this.options.interactions.callback(
          parts[1],
          parts[2],
          body.json,
          withAttachmentMetadata(body.files, attachmentsOf(body.json)),
          query.get('with_response') === 'true',
        );
      }
      if (parts[0] === 'webhooks') {
        return this.options.interactions.webhook(method, parts, body.json, withAttachmentMetadata(body.files, attachmentsOf(body.json)));
      }
    } catch (error) {
      if (error instanceof InteractionFailure) throw new RestFailure(error.status, error.body);
      throw error;
    }
    throw new RestFailure(404, { message: '404: Not Found', code: RESTJSONErrorCodes.GeneralError });
  }

  private commandsRoute(method: string, guildId: string | undefined, body: ParsedBody): { status: number; body?: unknown } {
    if (method === 'GET') return ok(this.options.interactions.registered(guildId));
    if (method === 'PUT') {
      try {
        return ok(this.options.interactions.bulkOverwrite(guildId, body.json));
      } catch (error) {
        if (error instanceof InteractionFailure) throw new RestFailure(error.status, error.body);
        throw error;
      }
    }
    throw new RestFailure(405, { message: '405: Method Not Allowed', code: RESTJSONErrorCodes.GeneralError });
  }

  private injectFailure(method: string, path: string, applied: boolean): void {
    const rule = this.failures.find(
      (candidate) =>
        candidate.remaining > 0 &&
        (candidate.afterApplying ?? false) === applied &&
        (!candidate.method || candidate.method.toUpperCase() === method) &&
        (!candidate.path || (typeof candidate.path === 'string' ? candidate.path === path : candidate.path.test(path))),
    );
    if (!rule) return;
    rule.remaining--;
    if (rule.remaining === 0) this.failures.splice(this.failures.indexOf(rule), 1);
    if (rule.status === 429) {
      const retryAfter = rule.retryAfter ?? 1;
      throw new RestFailure(
        429,
        { message: rule.message ?? 'You are being rate limited.', retry_after: retryAfter, global: rule.global ?? false },
        {
          'retry-after': String(retryAfter),
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': String(retryAfter),
          'x-ratelimit-scope': rule.global ? 'global' : 'user',
          ...(rule.global && { 'x-ratelimit-global': 'true' }),
        },
      );
    }
    if (rule.status >= 500) throw new RestFailure(rule.status, null);
    throw new RestFailure(rule.status, { message: rule.message ?? `${rule.status}: Injected failure`, code: rule.code ?? 0 });
  }

  private route(method: string, path: string, query: URLSearchParams, body: ParsedBody): { status: number; body?: unknown } {
    const parts = path.split('/').filter(Boolean);
    const model =
      (parts[0] === 'guilds' && this.options.guilds.find((guild) => guild.guild.id === parts[1])) ||
      (parts[0] === 'users' && this.options.guilds.find((guild) => guild.members.has(parts[1] ?? ''))) ||
      this.options.model;
    const is = (pattern: string): boolean => {
      const expected = pattern.split('/').filter(Boolean);
      return expected.length === parts.length && expected.every((part, index) => part.startsWith(':') || part === parts[index]);
    };

    if (method === 'GET' && is('/gateway')) return ok({ url: this.options.gatewayUrl() });
    if (method === 'GET' && is('/gateway/bot')) return ok(this.gatewayBot());
    if (method === 'GET' && (is('/applications/@me') || is('/oauth2/applications/@me'))) return ok(this.application());
    if (is('/applications/:app/commands') || is('/applications/:app/guilds/:guild/commands')) {
      if (parts[1] !== this.options.model.applicationId)
        throw new RestFailure(403, { message: 'Missing Access', code: RESTJSONErrorCodes.MissingAccess });
      const guildId = parts[2] === 'guilds' ? parts[3] : undefined;
      if (guildId && !this.options.guilds.some((guild) => guild.guild.id === guildId)) {
        throw new RestFailure(403, { message: 'Missing Access', code: RESTJSONErrorCodes.MissingAccess });
      }
      return this.commandsRoute(method, guildId, body);
    }
    if (method === 'GET' && is('/users/@me')) return ok(model.bot);
    if (method === 'GET' && is('/users/:id')) {
      const member = model.members.get(parts[1]);
      if (!member) throw unknown(RESTJSONErrorCodes.UnknownUser, 'Unknown User');
      return ok(member.user);
    }

    if (parts[0] === 'guilds') {
      if (parts[1] !== model.guild.id) throw unknown(RESTJSONErrorCodes.UnknownGuild, 'Unknown Guild');
      if (method === 'GET' && is('/guilds/:id')) {
        const { channels: _c, members: _m, threads: _t, presences: _p, voice_states: _v, ...guild } = model.guild;
        return ok(guild);
      }
      if (method === 'GET' && is('/guilds/:id/channels')) return ok(model.guild.channels);
      if (method === 'GET' && is('/guilds/:id/roles')) return ok(model.guild.roles);
      if (method === 'GET' && is('/guilds/:id/members')) {
        const limit = Number(query.get('limit') ?? 1);
        return ok([...model.members.values()].slice(0, limit));
      }
      if (method === 'GET' && is('/guilds/:id/members/:user')) {
        const member = model.members.get(parts[3]);
        if (!member) throw unknown(RESTJSONErrorCodes.UnknownMember, 'Unknown Member');
        return ok(member);
      }
    }

    if (parts[0] === 'channels' && parts[1]) return this.channelRoute(method, parts, is, query, body);
    throw new RestFailure(404, { message: '404: Not Found', code: RESTJSONErrorCodes.GeneralError });
  }

  private channelRoute(
    method: string,
    parts: string[],
    is: (pattern: string) => boolean,
    query: URLSearchParams,
    body: ParsedBody,
  ): { status: number; body?: unknown } {
    const { store } = this.options;
    const channelId = parts[1];
    const model =
      this.options.guilds.find((guild) => Object.values(guild.channels).some((channel) => channel.id === channelId)) ?? this.options.model;
    const channel = Object.values(model.channels).find((candidate) => candidate.id === channelId);
    if (!channel || this.unknownChannels.has(channelId)) throw unknown(RESTJSONErrorCodes.UnknownChannel, 'Unknown Channel');
    if (this.forbiddenChannels.has(channelId) || model.hiddenFromBot.has(channelId)) {
      throw new RestFailure(403, { message: 'Missing Access', code: RESTJSONErrorCodes.MissingAccess });
    }

    if (method === 'GET' && is('/channels/:id')) return ok(channel);
    if (method === 'POST' && is('/channels/:id/typing')) return { status: 204 };
    if (method === 'GET' && is('/channels/:id/messages')) {
      // As Discord pages a channel: `before` the newest messages below an id, `after` the oldest above one (the page
      // right after it), neither the newest of all; every page is sent newest first.
      const limit = Math.min(100, Number(query.get('limit') ?? 50));
      const [after, before] = [query.get('after'), query.get('before')];
      const all = store.list(channelId);
      const page = after
        ? all.filter((stored) => BigInt(stored.message.id) > BigInt(after)).slice(0, limit)
        : all.filter((stored) => !before || BigInt(stored.message.id) < BigInt(before)).slice(-limit);
      return ok(page.reverse().map((stored) => restShape(store.current(stored))));
    }
    if (method === 'POST' && is('/channels/:id/messages')) return ok(this.createMessage(channelId, body));

    const messageId = parts[3];
    const existing = messageId ? store.find(channelId, messageId) : undefined;
    if (is('/channels/:id/messages/:message') && !existing) {
      throw unknown(RESTJSONErrorCodes.UnknownMessage, 'Unknown Message');
    }
    if (method === 'GET' && is('/channels/:id/messages/:message')) return ok(restShape(store.current(existing!)));
    if (method === 'PATCH' && is('/channels/:id/messages/:message')) return ok(this.editMessage(existing!, body));
    if (method === 'DELETE' && is('/channels/:id/messages/:message')) {
      this.deleteMessage(existing!);
      return { status: 204 };
    }
    throw new RestFailure(404, { message: '404: Not Found', code: RESTJSONErrorCodes.GeneralError });
  }

  private createMessage(channelId: Snowflake, body: ParsedBody): unknown {
    const json = (body.json ?? {}) as RESTPostAPIChannelMessageJSONBody;
    validateMessage(json.content, json.embeds);
    validateNonce(json.nonce);
    validateAllowedMentions(json.allowed_mentions);
    // With enforce_nonce, Discord answers a create repeated with the nonce of a message the same author created in the
    // past few minutes with that message, and creates none (discord-api-docs, Create Message: enforce_nonce).
    const author = this.options.model.bot;
    if (json.enforce_nonce && json.nonce !== undefined) {
      const earlier = this.options.store.createdWithNonce(author.id, json.nonce, new Date(Date.now() - NONCE_WINDOW_MS));
      if (earlier) return restShape(this.options.store.current(earlier));
    }
    const files = withAttachmentMetadata(body.files, json.attachments);
    if (!json.content && !json.embeds?.length && !files.length && !json.sticker_ids?.length && !json.components?.length) {
      throw new RestFailure(400, { message: 'Cannot send an empty message', code: RESTJSONErrorCodes.CannotSendAnEmptyMessage });
    }
    const replyTo = json.message_reference?.message_id;
    if (replyTo && !this.options.store.find(channelId, replyTo) && json.message_reference?.fail_if_not_exists !== false) {
      throw invalidForm({ message_reference: { _errors: [{ code: 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', message: 'Unknown message' }] } });
    }
    const stored = this.options.store.create({
      channelId,
      author,
      content: json.content ?? '',
      ...(json.embeds && { embeds: json.embeds }),
      attachments: files,
      ...(replyTo && this.options.store.find(channelId, replyTo) && { replyTo }),
      ...(json.tts !== undefined && { tts: json.tts }),
      ...(json.nonce !== undefined && { nonce: json.nonce }),
    });
    limitMentions(stored, json.allowed_mentions);
    // Discord echoes the bot's own messages back over the gateway; bots must skip them themselves.
    this.options.gateway.dispatch({ t: GatewayDispatchEvents.MessageCreate, d: stored.message }, channelId);
    return restShape(stored.message);
  }

  private editMessage(stored: StoredMessage, body: ParsedBody): unknown {
    if (stored.message.author.id !== this.options.model.bot.id) {
      throw new RestFailure(403, {
        message: 'Cannot edit a message authored by another user',
        code: RESTJSONErrorCodes.CannotEditMessageAuthoredByAnotherUser,
      });
    }
    const json = (body.json ?? {}) as RESTPatchAPIChannelMessageJSONBody;
    validateMessage(json.content ?? undefined, json.embeds ?? undefined);
    const keep = json.attachments?.map((attachment) => String(attachment.id)).filter((id) => stored.attachments.some((file) => file.id === id));
    stored = this.options.store.edit(stored, {
      ...(json.content !== undefined && { content: json.content ?? '' }),
      ...(json.embeds !== undefined && { embeds: json.embeds ?? [] }),
      ...(keep && { keepAttachmentIds: keep }),
      addAttachments: withAttachmentMetadata(body.files, json.attachments),
    });
    const current = this.options.store.current(stored);
    this.options.gateway.dispatch({ t: GatewayDispatchEvents.MessageUpdate, d: current }, current.channel_id);
    return restShape(current);
  }

  private deleteMessage(stored: StoredMessage): void {
    if (stored.message.author.id !== this.options.model.bot.id) {
      // The stand-in's bot has no Manage Messages permission, as a bot that only posts would not.
      throw new RestFailure(403, { message: 'Missing Permissions', code: RESTJSONErrorCodes.MissingPermissions });
    }
    this.options.store.markDeleted(stored);
    const { id, channel_id, guild_id } = stored.message;
    this.options.gateway.dispatch({ t: GatewayDispatchEvents.MessageDelete, d: { id, channel_id, ...(guild_id && { guild_id }) } }, channel_id);
  }

  private gatewayBot(): APIGatewayBotInfo {
    return {
      url: this.options.gatewayUrl(),
      shards: this.options.shards,
      session_start_limit: { total: 1000, remaining: 1000, reset_after: 14_400_000, max_concurrency: this.options.maxConcurrency },
    };
  }

  private application(): APIApplication {
    const { model } = this.options;
    return {
      id: model.applicationId,
      name: model.bot.username,
      icon: null,
      description: 'Discord stand-in application',
      bot_public: false,
      bot_require_code_grant: false,
      bot: model.bot,
      summary: '',
      verify_key: '0'.repeat(64),
      team: null,
      flags: this.options.gateway.applicationFlags,
      flags_new: String(this.options.gateway.applicationFlags),
      approximate_guild_count: this.options.guilds.length,
    };
  }

  private serveCdn(path: string, response: ServerResponse): void {
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const stem = (file: string | undefined): string => (file ?? '').replace(/\.(png|webp|jpg|jpeg|gif)$/, '');
    let image: Buffer | null = null;
    let contentType = 'image/png';
    if (parts[0] === 'avatars' && parts.length === 3) image = avatarPng(parts[1]);
    else if (parts[0] === 'guilds' && parts[2] === 'users' && parts[4] === 'avatars') image = avatarPng(`${parts[3]}-guild`);
    else if (parts[0] === 'embed' && parts[1] === 'avatars') image = avatarPng(`default-${stem(parts[2])}`);
    else if (parts[0] === 'emojis' && parts.length === 2) image = emojiPng(stem(parts[1]));
    else if (parts[0] === 'attachments' && parts.length === 4) {
      const stored = this.options.store.attachment(parts[2]);
      if (stored && stored.filename === parts[3]) {
        image = stored.data;
        contentType = stored.contentType;
      }
    }
    if (!image) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    // Generated pictures are PNG whatever extension was asked for; browsers sniff the bytes anyway.
    response.writeHead(200, { 'content-type': contentType, 'content-length': image.length }).end(image);
  }
}

function attachmentsOf(json: unknown): RESTAPIAttachment[] | undefined {
  const data = (json as { data?: { attachments?: RESTAPIAttachment[] }; attachments?: RESTAPIAttachment[] } | undefined) ?? {};
  return data.data?.attachments ?? data.attachments;
}

function ok(body: unknown): { status: number; body: unknown } {
  return { status: 200, body };
}

function unknown(code: RESTJSONErrorCodes, message: string): RestFailure {
  return new RestFailure(404, { message, code });
}

function invalidForm(errors: RESTErrorData): RestFailure {
  return new RestFailure(400, { message: 'Invalid Form Body', code: RESTJSONErrorCodes.InvalidFormBodyOrContentType, errors });
}

function tooLong(max: number): RESTErrorData {
  return { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` }] };
}

/**
 * A string's length as Discord's API counts it: code points (its API is Python 3; discord-api-docs#1315), so an emoji
 * is one character although it is two UTF-16 units.
 */
function discordLength(text: string | null | undefined): number {
  // A client may send null for a field it clears (an edit's `content: null`); JSON can carry any type, and Discord
  // itself answers a non-string with 50035, which the field checks are not about.
  return typeof text === 'string' ? [...text].length : 0;
}

/** Discord's documented limits, answered the way Discord answers them (50035 with the offending field). */
function validateMessage(content: string | undefined, embeds: APIEmbed[] | undefined): void {
  if (discordLength(content) > 2000) throw invalidForm({ content: tooLong(2000) });
  if (!embeds) return;
  if (embeds.length > 10) throw invalidForm({ embeds: tooLong(10) });
  let total = 0;
  embeds.forEach((embed, index) => {
    const problems: Record<string, RESTErrorData> = {};
    const check = (field: string, value: string | undefined, max: number): void => {
      total += discordLength(value);
      if (discordLength(value) > max) problems[field] = tooLong(max);
    };
    check('title', embed.title, 256);
    check('description', embed.description, 4096);
    if (embed.author) check('author.name', embed.author.name, 256);
    if (embed.footer) check('footer.text', embed.footer.text, 2048);
    if ((embed.fields?.length ?? 0) > 25) problems.fields = tooLong(25);
    embed.fields?.forEach((field, fieldIndex) => {
      check(`fields.${fieldIndex}.name`, field.name, 256);
      check(`fields.${fieldIndex}.value`, field.value, 1024);
    });
    if (embed.color !== undefined && (!Number.isInteger(embed.color) || embed.color < 0 || embed.color > 0xffffff)) {
      problems.color = { _errors: [{ code: 'NUMBER_TYPE_MAX', message: 'int value should be less than or equal to 16777215.' }] };
    }
    if (Object.keys(problems).length) throw invalidForm({ embeds: { [index]: nest(problems) } });
  });
  if (total > 6000) {
    throw invalidForm({ embeds: { _errors: [{ code: 'MAX_EMBED_SIZE_EXCEEDED', message: 'Embed size exceeds maximum size of 6000' }] } });
  }
}

/** Turns { 'fields.0.name': e } into { fields: { 0: { name: e } } } as Discord nests its errors. */
function nest(flat: Record<string, RESTErrorData>): RESTErrorData {
  const nested: { [key: string]: RESTErrorData } = {};
  for (const [path, error] of Object.entries(flat)) {
    const keys = path.split('.');
    let at = nested;
    keys.slice(0, -1).forEach((key) => {
      at[key] ??= {};
      at = at[key] as { [key: string]: RESTErrorData };
    });
    at[keys[keys.length - 1]] = error;
  }
  return nested;
}

/** files[n] with the filename/description the payload's attachments entry with id n gives it. */
function withAttachmentMetadata(files: ParsedBody['files'], metadata: RESTAPIAttachment[] | undefined): NewAttachment[] {
  return files.map((file) => {
    const index = /^files\[(\d+)\]$/.exec(file.field)?.[1];
    const described = metadata?.find((entry) => String(entry.id) === index);
    return {
      filename: described?.filename ?? file.filename,
      data: file.data,
      ...(file.contentType && { contentType: file.contentType }),
      ...(described?.description && { description: described.description }),
    };
  });
}

async function readBody(request: IncomingMessage): Promise<ParsedBody> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const contentType = request.headers['content-type'] ?? '';
  if (!raw.length) return { json: undefined, files: [] };
  if (contentType.startsWith('application/json')) {
    try {
      return { json: JSON.parse(raw.toString('utf8')) as unknown, files: [] };
    } catch {
      throw new RestFailure(400, { message: 'The request body contains invalid JSON.', code: RESTJSONErrorCodes.RequestBodyContainsInvalidJSON });
    }
  }
  if (contentType.startsWith('multipart/form-data')) {
    // Node's fetch Request parses multipart bodies exactly as browsers send them, which is what @discordjs/rest uses.
    const form = await new Request('http://stand-in/', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
    let json: unknown;
    const files: ParsedBody['files'] = [];
    const entries: [string, FormDataEntryValue][] = [];
    form.forEach((value, field) => entries.push([field, value]));
    for (const [field, value] of entries) {
      if (typeof value === 'string') {
        if (field === 'payload_json') json = JSON.parse(value) as unknown;
        continue;
      }
      const data = Buffer.from(await value.arrayBuffer());
      if (data.length > MAX_FILE_BYTES) {
        throw new RestFailure(413, { message: 'Request entity too large', code: RESTJSONErrorCodes.RequestEntityTooLarge });
      }
      files.push({ field, filename: value.name, data, ...(value.type && { contentType: value.type }) });
    }
    return { json, files };
  }
  throw new RestFailure(400, { message: 'Invalid Form Body', code: RESTJSONErrorCodes.InvalidFormBodyOrContentType });
}

function reply(response: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined || body === null || status === 204) {
    response.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** How long Discord remembers a nonce for enforce_nonce ("the past few minutes"). */
const NONCE_WINDOW_MS = 5 * 60_000;

/** Discord's nonce: an integer or a string of at most 25 characters. */
function validateNonce(nonce: unknown): void {
  if (nonce === undefined || nonce === null) return;
  if ((typeof nonce === 'number' && Number.isInteger(nonce)) || (typeof nonce === 'string' && nonce.length <= 25)) return;
  throw invalidForm({ nonce: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' }] } });
}

const MENTION_TYPES = ['roles', 'users', 'everyone'];

/**
 * allowed_mentions as Discord checks it: `parse` takes only roles, users and everyone; `users` (or `roles`) with the
 * same type in `parse` is refused as mutually exclusive; at most 100 ids each.
 */
function validateAllowedMentions(allowed: RESTPostAPIChannelMessageJSONBody['allowed_mentions']): void {
  if (allowed === undefined || allowed === null) return;
  const parse: unknown[] = allowed.parse ?? [];
  const errors: Record<string, unknown> = {};
  parse.forEach((type, index) => {
    if (!MENTION_TYPES.includes(String(type))) {
      errors.parse = { [index]: { _errors: [{ code: 'BASE_TYPE_CHOICES', message: "Value must be one of {'roles', 'users', 'everyone'}." }] } };
    }
  });
  for (const type of ['users', 'roles'] as const) {
    const ids = allowed[type];
    if (ids && ids.length > 100) errors[type] = { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 100 or fewer in length.' }] };
    if (ids && ids.length > 0 && parse.includes(type)) {
      errors._errors = [
        { code: 'MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE', message: `parse:["${type}"] and ${type}: [ids] are mutually exclusive.` },
      ];
    }
  }
  if (Object.keys(errors).length > 0) throw invalidForm({ allowed_mentions: errors as RESTErrorData });
}

/** Who the message pings: everything its text mentions, unless allowed_mentions narrows it (`{ parse: [] }`: no one). */
function limitMentions(stored: StoredMessage, allowed: RESTPostAPIChannelMessageJSONBody['allowed_mentions']): void {
  if (allowed === undefined || allowed === null) return;
  const parse: string[] = allowed.parse ?? [];
  const message = stored.message;
  message.mention_everyone = message.mention_everyone && parse.includes('everyone');
  message.mentions = message.mentions.filter((user) => parse.includes('users') || (allowed.users ?? []).includes(user.id));
  message.mention_roles = message.mention_roles.filter((role) => parse.includes('roles') || (allowed.roles ?? []).includes(role));
}
