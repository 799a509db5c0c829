import { randomBytes } from 'node:crypto';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ComponentType,
  GatewayDispatchEvents,
  InteractionContextType,
  InteractionResponseType,
  InteractionType,
  Locale,
  MessageFlags,
  MessageType,
  PermissionFlagsBits,
  RESTJSONErrorCodes,
  type APIApplicationCommand,
  type APIApplicationCommandInteractionDataOption,
  type APIAttachment,
  type APIEmbed,
  type APIInteraction,
  type APIMessage,
  type APIMessageComponent,
  type APIUser,
  type RESTPutAPIApplicationCommandsJSONBody,
  type Snowflake,
} from 'discord-api-types/v10';
import type { StandInGateway } from './gateway';
import type { GuildModel } from './guild-fixture';
import { restShape, type MessageStore, type NewAttachment } from './message-store';
import { SnowflakeGenerator } from './snowflake';

/** A file as the stand-in received it in an interaction response, with its bytes. */
export interface ReceivedFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

/** A message an interaction answered with (the original response or a follow-up), as Discord keeps it. */
export interface ResponseMessage {
  id: Snowflake;
  flags: number;
  content: string;
  embeds: APIEmbed[];
  components: APIMessageComponent[];
  files: ReceivedFile[];
  /** Ephemeral messages live only in the invoking member's client; others are in the channel (the store). */
  ephemeral: boolean;
  /** True while it is a deferred "thinking…" message not yet edited. */
  loading: boolean;
  deleted: boolean;
}

/** Everything the stand-in saw of one interaction: how it was answered, edited and followed up. */
export interface InteractionRecord {
  id: Snowflake;
  token: string;
  type: InteractionType;
  createdAt: number;
  /** Interaction callback types in order (4 reply, 5 deferred, 8 autocomplete choices, …). */
  callbacks: InteractionResponseType[];
  original: ResponseMessage | null;
  /** How many times @original was edited. */
  originalEdits: number;
  followUps: ResponseMessage[];
  /** APPLICATION_COMMAND_AUTOCOMPLETE_RESULT's choices. */
  choices: { name: string; value: string | number }[] | null;
}

export interface InteractionOptions {
  /** The member who acts (a key of the guild's users is resolved by the caller). */
  user: APIUser;
  channelId: Snowflake;
  /** The member's client language, which Discord sends as the interaction's `locale` (default en-US). */
  locale?: Locale;
}

export class InteractionFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: { message: string; code: number } | null,
  ) {
    super(body?.message ?? `HTTP ${status}`);
  }
}

/** Discord drops an interaction that is not acknowledged this long after it was created. */
const DEFAULT_RESPONSE_WINDOW_MS = 3000;
/** The interaction token is valid for follow-ups and edits this long. */
const TOKEN_LIFETIME_MS = 15 * 60 * 1000;

/**
 * Application commands and interactions as Discord does them: the registered commands (global and per guild, bulk
 * overwritten with PUT), INTERACTION_CREATE dispatched over the gateway, the callback (once, within 3 s), follow-up
 * webhooks and edits of @original.
 */
export class StandInInteractions {
  readonly records = new Map<Snowflake, InteractionRecord>();
  private readonly byToken = new Map<string, InteractionRecord>();
  private readonly commands = new Map<string, APIApplicationCommand[]>();
  private readonly ids = new SnowflakeGenerator();
  responseWindowMs = DEFAULT_RESPONSE_WINDOW_MS;

  constructor(
    private readonly options: {
      applicationId: Snowflake;
      guilds: GuildModel[];
      store: MessageStore;
      gateway: StandInGateway;
      cdnUrl: () => string;
    },
  ) {}

  /** The commands registered globally (no guild) or in a guild, as GET answers them. */
  registered(guildId?: Snowflake): APIApplicationCommand[] {
    return this.commands.get(guildId ?? 'global') ?? [];
  }

  /** PUT /applications/{id}[/guilds/{guild}]/commands: the list replaces what was there; ids survive by name and type. */
  bulkOverwrite(guildId: Snowflake | undefined, body: unknown): APIApplicationCommand[] {
    if (!Array.isArray(body))
      throw new InteractionFailure(400, { message: 'Invalid Form Body', code: RESTJSONErrorCodes.InvalidFormBodyOrContentType });
    const before = this.registered(guildId);
    const next = (body as RESTPutAPIApplicationCommandsJSONBody).map((definition, index) => {
      const type = definition.type ?? ApplicationCommandType.ChatInput;
      if (!definition.name || (type === ApplicationCommandType.ChatInput && !/^[-_\p{L}\p{N}]{1,32}$/u.test(definition.name))) {
        throw new InteractionFailure(400, { message: `Invalid Form Body (${index}.name)`, code: RESTJSONErrorCodes.InvalidFormBodyOrContentType });
      }
      const existing = before.find((command) => command.name === definition.name && command.type === type);
      const command: APIApplicationCommand = {
        id: existing?.id ?? this.ids.next(),
        application_id: this.options.applicationId,
        version: this.ids.next(),
        type,
        name: definition.name,
        description: type === ApplicationCommandType.ChatInput ? ('description' in definition ? (definition.description ?? '') : '') : '',
        default_member_permissions: definition.default_member_permissions ?? null,
        dm_permission: definition.dm_permission ?? true,
        nsfw: definition.nsfw ?? false,
        // Discord fills these in when a definition leaves them out.
        integration_types: definition.integration_types ?? [0],
        contexts: definition.contexts ?? null,
        ...(guildId && { guild_id: guildId }),
        ...('options' in definition && definition.options?.length ? { options: definition.options } : {}),
      };
      return command;
    });
    this.commands.set(guildId ?? 'global', next);
    return next;
  }

  /** A member runs `/name sub option:value` (a chat input command with one subcommand). */
  slashCommand(
    who: InteractionOptions,
    command: { name: string; subcommand?: string; options?: Record<string, string | number> },
  ): InteractionRecord {
    const registered = this.findCommand(who.channelId, command.name, ApplicationCommandType.ChatInput);
    const values = Object.entries(command.options ?? {}).map(([name, value]) => this.option(registered, command.subcommand, name, value));
    const options: APIApplicationCommandInteractionDataOption[] = command.subcommand
      ? [{ type: ApplicationCommandOptionType.Subcommand, name: command.subcommand, options: values } as APIApplicationCommandInteractionDataOption]
      : values;
    return this.dispatch(InteractionType.ApplicationCommand, who, {
      id: registered.id,
      name: registered.name,
      type: ApplicationCommandType.ChatInput,
      options,
      guild_id: this.guildOf(who.channelId).guild.id,
    });
  }

  /** A member types into an option with autocompletion; `focused` names that option. */
  autocomplete(
    who: InteractionOptions,
    command: { name: string; subcommand?: string; focused: string; typed: string; options?: Record<string, string | number> },
  ): InteractionRecord {
    const registered = this.findCommand(who.channelId, command.name, ApplicationCommandType.ChatInput);
    const values = Object.entries(command.options ?? {}).map(([name, value]) => this.option(registered, command.subcommand, name, value));
    values.push({
      ...this.option(registered, command.subcommand, command.focused, command.typed),
      focused: true,
    } as APIApplicationCommandInteractionDataOption);
    const options = command.subcommand ? [{ type: ApplicationCommandOptionType.Subcommand, name: command.subcommand, options: values }] : values;
    return this.dispatch(InteractionType.ApplicationCommandAutocomplete, who, {
      id: registered.id,
      name: registered.name,
      type: ApplicationCommandType.ChatInput,
      options,
      guild_id: this.guildOf(who.channelId).guild.id,
    });
  }

  /** A member picks Apps → `name` on a message: the message comes along in `resolved`, content included. */
  messageCommand(who: InteractionOptions, command: { name: string; messageId: Snowflake }): InteractionRecord {
    const registered = this.findCommand(who.channelId, command.name, ApplicationCommandType.Message);
    const stored = this.options.store.find(who.channelId, command.messageId);
    if (!stored) throw new Error(`Discord stand-in: no message ${command.messageId} in channel ${who.channelId}`);
    return this.dispatch(InteractionType.ApplicationCommand, who, {
      id: registered.id,
      name: registered.name,
      type: ApplicationCommandType.Message,
      target_id: command.messageId,
      resolved: { messages: { [command.messageId]: restShape(this.options.store.current(stored)) } },
      guild_id: this.guildOf(who.channelId).guild.id,
    });
  }

  /** A member clicks a button on a message an interaction answered with. */
  clickButton(who: InteractionOptions, on: ResponseMessage, customId: string): InteractionRecord {
    const buttons = on.components.flatMap((row) => ('components' in row ? (row.components as object[]) : []));
    if (!buttons.some((button) => 'custom_id' in button && button.custom_id === customId)) {
      throw new Error(`Discord stand-in: the message has no button ${customId}`);
    }
    return this.dispatch(
      InteractionType.MessageComponent,
      who,
      { custom_id: customId, component_type: ComponentType.Button },
      this.asMessage(on, who.channelId),
    );
  }

  /** POST /interactions/{id}/{token}/callback */
  callback(id: Snowflake, token: string, json: unknown, files: NewAttachment[], withResponse: boolean): { status: number; body?: unknown } {
    const record = this.records.get(id);
    if (!record || record.token !== token || Date.now() - record.createdAt > this.responseWindowMs) {
      throw new InteractionFailure(404, { message: 'Unknown interaction', code: RESTJSONErrorCodes.UnknownInteraction });
    }
    if (record.callbacks.length) {
      throw new InteractionFailure(400, {
        message: 'Interaction has already been acknowledged.',
        code: RESTJSONErrorCodes.InteractionHasAlreadyBeenAcknowledged,
      });
    }
    const body = (json ?? {}) as { type?: InteractionResponseType; data?: Record<string, unknown> };
    const type = body.type;
    const data = body.data ?? {};
    const flags = Number(data.flags ?? 0);
    switch (type) {
      case InteractionResponseType.ChannelMessageWithSource:
        record.original = this.responseMessage(record, data, files, flags, false);
        break;
      case InteractionResponseType.DeferredChannelMessageWithSource:
        record.original = this.responseMessage(record, {}, [], flags | MessageFlags.Loading, true);
        break;
      case InteractionResponseType.ApplicationCommandAutocompleteResult:
        if (record.type !== InteractionType.ApplicationCommandAutocomplete) throw invalidType();
        record.choices = (data.choices as InteractionRecord['choices']) ?? [];
        if (record.choices.length > 25)
          throw new InteractionFailure(400, {
            message: 'Invalid Form Body (choices: max 25)',
            code: RESTJSONErrorCodes.InvalidFormBodyOrContentType,
          });
        break;
      case InteractionResponseType.DeferredMessageUpdate:
      case InteractionResponseType.UpdateMessage:
        if (record.type !== InteractionType.MessageComponent) throw invalidType();
        break;
      default:
        throw invalidType();
    }
    record.callbacks.push(type);
    if (!withResponse) return { status: 204 };
    return {
      status: 200,
      body: {
        interaction: {
          id: record.id,
          type: record.type,
          response_message_id: record.original?.id,
          response_message_loading: record.original?.loading ?? false,
          response_message_ephemeral: record.original?.ephemeral ?? false,
        },
        resource: { type, ...(record.original && { message: this.asMessage(record.original) }) },
      },
    };
  }

  /** /webhooks/{application}/{token}[/messages/{id|@original}] */
  webhook(method: string, parts: string[], json: unknown, files: NewAttachment[]): { status: number; body?: unknown } {
    const [, applicationId, token, messages, encodedMessageId] = parts;
    // discord.js sends @original percent-encoded (%40original), as Discord accepts both.
    const messageId = encodedMessageId && decodeURIComponent(encodedMessageId);
    const record = this.byToken.get(token ?? '');
    if (applicationId !== this.options.applicationId || !record || Date.now() - record.createdAt > TOKEN_LIFETIME_MS || !record.callbacks.length) {
      throw new InteractionFailure(404, { message: 'Unknown Webhook', code: RESTJSONErrorCodes.UnknownWebhook });
    }
    const data = (json ?? {}) as Record<string, unknown>;
    if (method === 'POST' && parts.length === 3) {
      const followUp = this.responseMessage(record, data, files, Number(data.flags ?? 0), false);
      record.followUps.push(followUp);
      return { status: 200, body: this.asMessage(followUp) };
    }
    if (messages !== 'messages' || !messageId) throw new InteractionFailure(404, { message: '404: Not Found', code: 0 });
    const target = messageId === '@original' ? record.original : record.followUps.find((message) => message.id === messageId);
    if (!target || target.deleted) throw new InteractionFailure(404, { message: 'Unknown Message', code: RESTJSONErrorCodes.UnknownMessage });
    if (method === 'GET') return { status: 200, body: this.asMessage(target) };
    if (method === 'DELETE') {
      target.deleted = true;
      return { status: 204 };
    }
    if (method === 'PATCH') {
      if ('content' in data) target.content = typeof data.content === 'string' ? data.content : '';
      if ('embeds' in data) target.embeds = (data.embeds as APIEmbed[] | null) ?? [];
      if ('components' in data) target.components = (data.components as APIMessageComponent[] | null) ?? [];
      const keep = (data.attachments as { id: string | number }[] | undefined)?.map((attachment) => String(attachment.id));
      const kept = keep ? target.files.filter((_, index) => keep.includes(String(index))) : target.files;
      target.files = [...kept, ...files.map(received)];
      target.loading = false;
      target.flags &= ~MessageFlags.Loading;
      if (messageId === '@original') record.originalEdits++;
      return { status: 200, body: this.asMessage(target) };
    }
    throw new InteractionFailure(405, { message: '405: Method Not Allowed', code: 0 });
  }

  private dispatch(type: InteractionType, who: InteractionOptions, data: unknown, message?: APIMessage): InteractionRecord {
    const model = this.guildOf(who.channelId);
    const channel = Object.values(model.channels).find((candidate) => candidate.id === who.channelId)!;
    const member = model.members.get(who.user.id);
    if (!member) throw new Error(`Discord stand-in: ${who.user.username} is not a member of ${model.guild.name}`);
    const record: InteractionRecord = {
      id: this.ids.next(),
      token: `aW50ZXJhY3Rpb24${randomBytes(24).toString('base64url')}`,
      type,
      createdAt: Date.now(),
      callbacks: [],
      original: null,
      originalEdits: 0,
      followUps: [],
      choices: null,
    };
    const permissions = permissionsIn(model, member.roles, who.user.id, who.channelId);
    const interaction = {
      id: record.id,
      application_id: this.options.applicationId,
      type,
      data,
      guild_id: model.guild.id,
      guild: { id: model.guild.id, locale: Locale.EnglishUS, features: [] },
      channel: { ...channel, permissions: permissions.toString() },
      channel_id: who.channelId,
      member: { ...member, permissions: permissions.toString() },
      token: record.token,
      version: 1,
      app_permissions: permissionsIn(model, member.roles, model.bot.id, who.channelId).toString(),
      locale: who.locale ?? Locale.EnglishUS,
      guild_locale: Locale.EnglishUS,
      entitlements: [],
      authorizing_integration_owners: { '0': model.guild.id },
      context: InteractionContextType.Guild,
      attachment_size_limit: 10 * 1024 * 1024,
      ...(message && { message }),
    } as unknown as APIInteraction;
    this.records.set(record.id, record);
    this.byToken.set(record.token, record);
    const delivered = this.options.gateway.dispatch({ t: GatewayDispatchEvents.InteractionCreate, d: interaction });
    if (!delivered) throw new Error('Discord stand-in: no bot session received INTERACTION_CREATE; await waitForIdentify() first');
    return record;
  }

  private responseMessage(
    record: InteractionRecord,
    data: Record<string, unknown>,
    files: NewAttachment[],
    flags: number,
    loading: boolean,
  ): ResponseMessage {
    return {
      id: this.ids.next(),
      flags,
      content: typeof data.content === 'string' ? data.content : '',
      embeds: (data.embeds as APIEmbed[] | undefined) ?? [],
      components: (data.components as APIMessageComponent[] | undefined) ?? [],
      files: files.map(received),
      ephemeral: Boolean(flags & MessageFlags.Ephemeral),
      loading,
      deleted: false,
    };
  }

  private asMessage(message: ResponseMessage, channelId = ''): APIMessage {
    const attachments: APIAttachment[] = message.files.map((file, index) => ({
      id: `${message.id.slice(0, -2)}${String(index).padStart(2, '0')}`,
      filename: file.filename,
      size: file.data.length,
      url: `${this.options.cdnUrl()}/ephemeral-attachments/${message.id}/${index}/${encodeURIComponent(file.filename)}`,
      proxy_url: `${this.options.cdnUrl()}/ephemeral-attachments/${message.id}/${index}/${encodeURIComponent(file.filename)}`,
      content_type: file.contentType,
      ...(message.ephemeral && { ephemeral: true }),
    }));
    const bot = this.options.guilds[0].bot;
    return {
      id: message.id,
      channel_id: channelId,
      author: bot,
      content: message.content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments,
      embeds: message.embeds,
      pinned: false,
      type: MessageType.ChatInputCommand,
      flags: message.flags,
      components: message.components,
      application_id: this.options.applicationId,
      webhook_id: this.options.applicationId,
    } as APIMessage;
  }

  private findCommand(channelId: Snowflake, name: string, type: ApplicationCommandType): APIApplicationCommand {
    const guildId = this.guildOf(channelId).guild.id;
    const found = [...this.registered(guildId), ...this.registered()].find((command) => command.name === name && command.type === type);
    if (!found) throw new Error(`Discord stand-in: no command "${name}" is registered for guild ${guildId} (members would not see it)`);
    return found;
  }

  private option(
    command: APIApplicationCommand,
    subcommand: string | undefined,
    name: string,
    value: string | number,
  ): APIApplicationCommandInteractionDataOption {
    const scope = subcommand ? command.options?.find((option) => option.name === subcommand) : command;
    const options = (scope && 'options' in scope ? scope.options : undefined) ?? [];
    const declared = options.find((option) => option.name === name);
    if (!declared) throw new Error(`Discord stand-in: /${command.name} ${subcommand ?? ''} has no option ${name}`);
    return { type: declared.type, name, value } as APIApplicationCommandInteractionDataOption;
  }

  private guildOf(channelId: Snowflake): GuildModel {
    const found = this.options.guilds.find((guild) => Object.values(guild.channels).some((channel) => channel.id === channelId));
    if (!found) throw new Error(`Discord stand-in: no channel ${channelId}`);
    return found;
  }
}

/** A member's permissions in a channel, computed as Discord does: base roles, then the channel's overwrites. */
export function permissionsIn(model: GuildModel, roleIds: Snowflake[], userId: Snowflake, channelId: Snowflake): bigint {
  const roles = model.guild.roles;
  const everyone = roles.find((role) => role.id === model.guild.id);
  let permissions = BigInt(everyone?.permissions ?? 0);
  const memberRoleIds = userId === model.bot.id ? roles.filter((role) => role.tags?.bot_id === userId).map((role) => role.id) : roleIds;
  for (const role of roles) if (memberRoleIds.includes(role.id)) permissions |= BigInt(role.permissions);
  if (model.guild.owner_id === userId || permissions & PermissionFlagsBits.Administrator) return (1n << 53n) - 1n;
  const channel = Object.values(model.channels).find((candidate) => candidate.id === channelId);
  const overwrites = channel?.permission_overwrites ?? [];
  const apply = (allow: string, deny: string): void => {
    permissions = (permissions & ~BigInt(deny)) | BigInt(allow);
  };
  const everyoneOverwrite = overwrites.find((overwrite) => overwrite.id === model.guild.id);
  if (everyoneOverwrite) apply(everyoneOverwrite.allow, everyoneOverwrite.deny);
  let roleAllow = 0n;
  let roleDeny = 0n;
  for (const overwrite of overwrites) {
    if (overwrite.type === 0 && overwrite.id !== model.guild.id && memberRoleIds.includes(overwrite.id)) {
      roleAllow |= BigInt(overwrite.allow);
      roleDeny |= BigInt(overwrite.deny);
    }
  }
  apply(roleAllow.toString(), roleDeny.toString());
  const own = overwrites.find((overwrite) => overwrite.type === 1 && overwrite.id === userId);
  if (own) apply(own.allow, own.deny);
  return permissions;
}

function received(file: NewAttachment): ReceivedFile {
  return { filename: file.filename, contentType: file.contentType ?? 'application/octet-stream', data: file.data };
}

function invalidType(): InteractionFailure {
  return new InteractionFailure(400, { message: 'Invalid Form Body (type)', code: RESTJSONErrorCodes.InvalidFormBodyOrContentType });
}
