import {
  ChannelType,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildHubType,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  Locale,
  OverwriteType,
  PermissionFlagsBits,
  type APIEmoji,
  type GuildMemberFlags,
  type RoleFlags,
  type UserFlags,
  type APIGuildMember,
  type APIRole,
  type APITextChannel,
  type APIUser,
  type GatewayGuildCreateDispatchData,
  type Snowflake,
} from 'discord-api-types/v10';

/** What a test may say about the guild the bot sits in; everything has a default. */
export interface GuildOptions {
  id?: Snowflake;
  name?: string;
  roles?: RoleOptions[];
  /** People and bots in the guild; the bot user itself is always added. */
  users?: UserOptions[];
  channels?: ChannelOptions[];
  emojis?: EmojiOptions[];
}

export interface RoleOptions {
  /** Key under which the test finds it in `standIn.roles`. */
  key: string;
  name: string;
  /** 0xRRGGBB; 0 means "no colour", as in Discord. */
  colour: number;
  hoist?: boolean;
}

export interface UserOptions {
  key: string;
  username: string;
  globalName?: string | null;
  nick?: string | null;
  bot?: boolean;
  /** false: no avatar, Discord's default avatar is shown. */
  avatar?: boolean;
  /** Keys of RoleOptions. */
  roles?: string[];
}

export interface ChannelOptions {
  key: string;
  name: string;
  topic?: string;
  /** A permission overwrite denies the bot View Channel here. */
  hiddenFromBot?: boolean;
}

export interface EmojiOptions {
  key: string;
  name: string;
  animated?: boolean;
}

export interface BotOptions {
  id: Snowflake;
  username: string;
  applicationId: Snowflake;
}

/** The guild as the stand-in holds it: the GUILD_CREATE payload and keyed lookups for tests. */
export interface GuildModel {
  guild: GatewayGuildCreateDispatchData;
  bot: APIUser;
  users: Record<string, APIUser>;
  members: Map<Snowflake, APIGuildMember>;
  roles: Record<string, APIRole>;
  channels: Record<string, APITextChannel>;
  emojis: Record<string, APIEmoji>;
  applicationId: Snowflake;
  /** Channels whose permission overwrites deny the bot View Channel. */
  hiddenFromBot: Set<Snowflake>;
}

const EVERYONE_PERMISSIONS =
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseExternalEmojis |
  PermissionFlagsBits.ChangeNickname;

export const DEFAULT_GUILD: Required<Omit<GuildOptions, 'id'>> & { id: Snowflake } = {
  id: '1200000000000000001',
  name: 'Herald Test Guild',
  roles: [
    { key: 'moderator', name: 'Moderator', colour: 0xe91e63, hoist: true },
    { key: 'developer', name: 'Developer', colour: 0x3498db },
  ],
  users: [
    { key: 'alice', username: 'alice', globalName: 'Alice Liddell', nick: 'Alice', roles: ['moderator', 'developer'] },
    { key: 'bob', username: 'bob', globalName: 'Bob', avatar: false },
    { key: 'carol', username: 'carol', globalName: 'Carol', roles: ['developer'] },
    { key: 'relay', username: 'Relay', bot: true },
  ],
  channels: [
    { key: 'general', name: 'general', topic: 'Talk about anything' },
    { key: 'announcements', name: 'announcements' },
    { key: 'builds', name: 'builds' },
    { key: 'secret', name: 'secret', hiddenFromBot: true },
  ],
  emojis: [{ key: 'party', name: 'herald_party' }],
};

/**
 * Builds the guild with stable ids (derived from the guild id and the order of things) so that golden images and
 * test expectations do not change from run to run.
 */
export function buildGuild(options: GuildOptions, bot: BotOptions): GuildModel {
  const spec = { ...DEFAULT_GUILD, ...options };
  const guildId = spec.id;
  let counter = 0;
  const nextId = (): Snowflake => (BigInt(guildId) + BigInt(++counter)).toString();
  const joinedAt = '2024-01-01T12:00:00.000000+00:00';

  const everyone: APIRole = role(guildId, '@everyone', 0, 0, EVERYONE_PERMISSIONS);
  const roles: Record<string, APIRole> = { everyone };
  spec.roles.forEach((options, index) => {
    roles[options.key] = role(nextId(), options.name, options.colour, spec.roles.length - index, 0n, options.hoist);
  });
  const botRole: APIRole = {
    ...role(nextId(), bot.username, 0, 1, EVERYONE_PERMISSIONS),
    managed: true,
    tags: { bot_id: bot.id },
  };
  roles.bot = botRole;

  const botUser: APIUser = user(bot.id, bot.username, null, true, `avatar${bot.id}`);
  const users: Record<string, APIUser> = { bot: botUser };
  const members = new Map<Snowflake, APIGuildMember>();
  members.set(botUser.id, member(botUser, null, [botRole.id], joinedAt));
  for (const options of spec.users) {
    const id = nextId();
    const created = user(id, options.username, options.globalName ?? null, options.bot ?? false, options.avatar === false ? null : `avatar${id}`);
    users[options.key] = created;
    const roleIds = (options.roles ?? []).map((key) => {
      const found = roles[key];
      if (!found) throw new Error(`Discord stand-in: user ${options.key} has unknown role ${key}`);
      return found.id;
    });
    members.set(id, member(created, options.nick ?? null, roleIds, joinedAt));
  }

  const channels: Record<string, APITextChannel> = {};
  const hiddenFromBot = new Set<Snowflake>();
  spec.channels.forEach((options, position) => {
    const id = nextId();
    if (options.hiddenFromBot) hiddenFromBot.add(id);
    channels[options.key] = {
      id,
      type: ChannelType.GuildText,
      guild_id: guildId,
      name: options.name,
      topic: options.topic ?? null,
      position,
      nsfw: false,
      parent_id: null,
      rate_limit_per_user: 0,
      last_message_id: null,
      permission_overwrites: options.hiddenFromBot
        ? [{ id: botUser.id, type: OverwriteType.Member, allow: '0', deny: PermissionFlagsBits.ViewChannel.toString() }]
        : [],
    };
  });

  const emojis: Record<string, APIEmoji> = {};
  for (const options of spec.emojis) {
    emojis[options.key] = {
      id: nextId(),
      name: options.name,
      animated: options.animated ?? false,
      available: true,
      managed: false,
      require_colons: true,
      roles: [],
    };
  }

  const guild: GatewayGuildCreateDispatchData = {
    id: guildId,
    name: spec.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: users[spec.users[0]?.key ?? 'bot'].id,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: GuildVerificationLevel.None,
    default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
    explicit_content_filter: GuildExplicitContentFilter.Disabled,
    roles: Object.values(roles),
    emojis: Object.values(emojis),
    features: [],
    mfa_level: GuildMFALevel.None,
    application_id: null,
    system_channel_id: null,
    system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotifications,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: GuildPremiumTier.None,
    premium_subscription_count: 0,
    preferred_locale: Locale.EnglishUS,
    public_updates_channel_id: null,
    nsfw_level: GuildNSFWLevel.Default,
    stickers: [],
    premium_progress_bar_enabled: false,
    hub_type: null as GuildHubType | null,
    safety_alerts_channel_id: null,
    incidents_data: null,
    joined_at: joinedAt,
    large: false,
    member_count: members.size,
    voice_states: [],
    members: [...members.values()],
    channels: Object.values(channels),
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };

  return { guild, bot: botUser, users, members, roles, channels, emojis, applicationId: bot.applicationId, hiddenFromBot };
}

function role(id: Snowflake, name: string, colour: number, position: number, permissions: bigint, hoist = false): APIRole {
  return {
    id,
    name,
    color: colour,
    colors: { primary_color: colour, secondary_color: null, tertiary_color: null },
    hoist,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: permissions.toString(),
    managed: false,
    mentionable: true,
    flags: 0 as RoleFlags,
  };
}

function user(id: Snowflake, username: string, globalName: string | null, bot: boolean, avatar: string | null): APIUser {
  return {
    id,
    username,
    discriminator: bot ? '0001' : '0',
    global_name: globalName,
    avatar,
    bot,
    public_flags: 0 as UserFlags,
  };
}

function member(of: APIUser, nick: string | null, roles: Snowflake[], joinedAt: string): APIGuildMember {
  return {
    user: of,
    nick,
    avatar: null,
    roles,
    joined_at: joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
  };
}
