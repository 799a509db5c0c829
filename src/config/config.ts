import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { SCOPES, isScope, type Scope } from '../auth/scopes';
import { isValidLocale, isValidTimeZone } from '../common/intl';
import { parseShardIds, type DiscordSharding } from '../discord-bot/discord-shards';

/** Injection token for the one validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const optionalString = z
  .string()
  .transform((value) => value.trim())
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be one of true, false, 1, 0, yes, no' })
    .optional()
    .transform((value) => (value === undefined ? fallback : ['true', '1', 'yes'].includes(value)));

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      if (!/^-?\d+$/.test(value.trim())) {
        ctx.addIssue({ code: 'custom', message: `must be a whole number, got "${value}"` });
        return z.NEVER;
      }
      const parsed = Number(value);
      if (parsed < min || parsed > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}, got ${parsed}` });
        return z.NEVER;
      }
      return parsed;
    });

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      // `new URL` takes "redis://host/0  # a comment" (it encodes the spaces), and the client then fails on the path.
      if (/\s/.test(value)) {
        const comment = /\s#/.test(value)
          ? '; an env file parser that keeps inline comments read "# …" as part of it: put the comment on a line of its own'
          : '';
        ctx.addIssue({ code: 'custom', message: `must be a URL without spaces${comment}` });
        return;
      }
      // A MongoDB replica set's seed list (mongodb://a:27017,b:27017/db) is one URL to the driver, not to `new URL`:
      // checked with its first host.
      const parsed = URL.parse(
        value.replace(/^(mongodb:\/\/(?:[^@/]*@)?)([^/?]*)/, (_whole, start: string, hosts: string) => start + hosts.split(',')[0]),
      );
      if (!parsed || !protocols.includes(parsed.protocol.replace(/:$/, ''))) {
        ctx.addIssue({ code: 'custom', message: `must be a URL (${protocols.join(', ')})` });
        return;
      }
      // A Redis URL's path is the database number (redis://host:6379/0), or nothing for database 0.
      if (/^rediss?:$/.test(parsed.protocol) && !/^\/?(\d+)?$/.test(parsed.pathname)) {
        ctx.addIssue({
          code: 'custom',
          message: `must name the database by its number after the host (redis://host:6379/0), got the path "${parsed.pathname}"`,
        });
      }
    });

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()))
    .pipe(url(protocols).optional());

/** A text setting whose empty value means its default, as for the others. */
const withDefault = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((value) => value?.trim() || fallback);

const list = (fallback: string[]) =>
  z
    .string()
    .optional()
    .transform((value) =>
      value === undefined || value.trim() === ''
        ? fallback
        : value
            .split(',')
            .map((item) => item.trim())
            .filter(Boolean),
    );

/** Where a person finds an id in Discord: they are not the names the client shows. */
export const DISCORD_ID_HINT =
  'Discord shows ids with Developer Mode on (User Settings → Advanced): right-click the channel, server or role → Copy Channel ID / Server ID / Role ID';

const snowflake = z
  .string()
  .trim()
  .regex(/^\d{15,21}$/, { error: (issue) => `must be a Discord id (a snowflake of 15-21 digits), not "${String(issue.input)}"; ${DISCORD_ID_HINT}` });
const optionalSnowflake = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()))
  .pipe(snowflake.optional());

/** "owner/repo=channelId,owner/other=channelId" */
const repoChannelMap = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const map: Record<string, string> = {};
    if (value === undefined || value.trim() === '') return map;
    for (const pair of value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)) {
      const [repo, channel] = pair.split('=').map((part) => part?.trim());
      if (!repo || !channel || !/^[^/\s]+\/[^/\s]+$/.test(repo) || !/^\d{15,21}$/.test(channel)) {
        ctx.addIssue({ code: 'custom', message: `each entry must look like owner/repo=<channel id>, got "${pair}"` });
        return z.NEVER;
      }
      map[repo.toLowerCase()] = channel;
    }
    return map;
  });

/** How many requests a token may make per window, by the scope the endpoint needs; `null` means unlimited. */
export type RateLimit = { limit: number; windowSeconds: number } | null;

const DEFAULT_RATE_LIMITS: Record<Scope, RateLimit> = {
  notify: { limit: 300, windowSeconds: 60 },
  render: { limit: 120, windowSeconds: 60 },
  metrics: { limit: 120, windowSeconds: 60 },
  'drone-admin': { limit: 60, windowSeconds: 60 },
  'vk-admin': { limit: 60, windowSeconds: 60 },
  'outbox-admin': { limit: 60, windowSeconds: 60 },
  read: { limit: 600, windowSeconds: 60 },
};

/** "notify=120/60s,render=30/1m,read=off" over the defaults; "off" alone turns every limit off. */
const rateLimits = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const limits: Record<Scope, RateLimit> = { ...DEFAULT_RATE_LIMITS };
    if (value === undefined || value.trim() === '') return limits;
    if (value.trim() === 'off') return Object.fromEntries(SCOPES.map((scope) => [scope, null])) as Record<Scope, RateLimit>;
    for (const pair of value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)) {
      const [scope, spec] = pair.split('=').map((part) => part?.trim());
      if (!scope || !isScope(scope)) {
        ctx.addIssue({ code: 'custom', message: `"${pair}": the scope must be one of ${SCOPES.join(', ')}` });
        return z.NEVER;
      }
      if (spec === 'off') {
        limits[scope] = null;
        continue;
      }
      const match = /^(\d{1,7})\/(\d{1,5})(s|m|h)$/.exec(spec ?? '');
      const limit = Number(match?.[1]);
      const windowSeconds = Number(match?.[2]) * (match?.[3] === 'h' ? 3600 : match?.[3] === 'm' ? 60 : 1);
      if (!match || limit < 1 || windowSeconds < 1 || windowSeconds > 86400) {
        ctx.addIssue({
          code: 'custom',
          message: `"${pair}": each entry must look like <scope>=<requests>/<window> (window 1s-24h, e.g. notify=120/1m) or <scope>=off`,
        });
        return z.NEVER;
      }
      limits[scope] = { limit, windowSeconds };
    }
    return limits;
  });

/** Tokens printed in Herald's own docs at some point: anyone could guess them. */
const PUBLISHED_TOKENS = ['herald-dev-token'];

/**
 * A secret left as the docs' or the example manifests' placeholder (`<32 random characters>`, `replace-me`,
 * `change-me-to-a-long-random-token`): long enough to pass, and known to anyone who read them.
 */
function isPlaceholder(secret: string): boolean {
  return PUBLISHED_TOKENS.includes(secret) || /^<.*>$/.test(secret) || /^(?:replace|change)[-_ ]?(?:me|with|this)\b/i.test(secret);
}

/** The password of a URL such as amqp://user:password@host, decoded; none for anything else. */
function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** `auto`: on where what it needs is configured; `true` / `false` force it. */
const featureSwitch = z.enum(['auto', 'true', 'false'], { error: 'must be one of auto, true, false' }).default('auto');

const ROLES = ['api', 'discord', 'vk'] as const;
export type HeraldRole = (typeof ROLES)[number];

const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Chromium's PNG encoder: `compact` is its default (smaller files), `fast` its optimizeForSpeed mode. */
export const PNG_ENCODINGS = ['compact', 'fast'] as const;
export type PngEncoding = (typeof PNG_ENCODINGS)[number];

export const BACKEND_PROTOCOLS = ['herald', 'legacy'] as const;
export type BackendProtocol = (typeof BACKEND_PROTOCOLS)[number];

/** Placeholders an image key template may use; `{messageId}` is required, so every message has a key of its own. */
export const IMAGE_KEY_PLACEHOLDERS = ['guildId', 'channelId', 'messageId', 'channelName'] as const;
export const DEFAULT_IMAGE_KEY_TEMPLATE = 'discord/{guildId}/{channelId}/{messageId}.png';

export function imageKeyTemplateProblems(template: string): string[] {
  const problems: string[] = [];
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)]
    .map((match) => match[1])
    .filter((name) => !(IMAGE_KEY_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length)
    problems.push(
      `unknown placeholder(s) ${unknown.map((name) => `{${name}}`).join(', ')}; allowed: ${IMAGE_KEY_PLACEHOLDERS.map((name) => `{${name}}`).join(', ')}`,
    );
  if (!template.includes('{messageId}')) problems.push('must contain {messageId}, so each message gets a key of its own');
  if (template.startsWith('/')) problems.push('must not start with "/" (S3 keys are relative to the bucket)');
  if (template.length > 512) problems.push('must be at most 512 characters');
  return problems;
}

/** The environment, variable by variable; the README's configuration table mirrors this schema. */
const envSchema = z.object({
  PORT: int(3000, 1, 65535),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  HERALD_ROLES: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const roles = (value ?? ROLES.join(','))
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean);
      const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
      if (unknown.length) {
        ctx.addIssue({ code: 'custom', message: `unknown role(s) ${unknown.join(', ')}; allowed: ${ROLES.join(', ')}` });
        return z.NEVER;
      }
      return roles as HeraldRole[];
    }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool(false),
  SHUTDOWN_TIMEOUT_MS: int(8000, 100, 60000),

  MONGODB_URI: url(['mongodb', 'mongodb+srv']).default('mongodb://127.0.0.1:27017/herald'),
  MONGODB_TIMEOUT_MS: int(2000, 100, 60000),
  MONGODB_STARTUP_TIMEOUT_MS: int(60000, 1000, 3600000),

  S3_ENDPOINT: optionalUrl(['http', 'https']),
  S3_REGION: z.string().trim().min(1).default('us-east-1'),
  S3_BUCKET: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)')
    .default('herald'),
  S3_FORCE_PATH_STYLE: bool(false),
  S3_CREATE_BUCKET: bool(false),
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  S3_PUBLIC_URL: optionalUrl(['http', 'https']),

  SYSTEM_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  API_TOKENS_FILE: optionalString,
  API_TOKENS_POLL_INTERVAL_MS: int(2000, 100, 600000),
  API_RATE_LIMITS: rateLimits,
  BACKEND_URL: optionalUrl(['http', 'https']),
  BACKEND_PROTOCOL: z.enum(BACKEND_PROTOCOLS, { error: `must be one of ${BACKEND_PROTOCOLS.join(', ')}` }).default('herald'),
  BACKEND_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),

  // "Bot <token>" as some configurations write it: discord.js's login drops the prefix, Discord REST (Notify, Drone)
  // would send "Bot Bot <token>" and be refused, so the bot looked online while every notification failed.
  DISCORD_TOKEN: optionalString.transform((value) => value?.replace(/^(?:Bot|Bearer)\s+/i, '')),
  DISCORD_API_URL: url(['http', 'https']).default('https://discord.com/api'),
  DISCORD_CDN_URL: url(['http', 'https']).default('https://cdn.discordapp.com'),
  DISCORD_CHANNEL_ALLOWLIST: list([]).pipe(z.array(snowflake)),
  DISCORD_RENDER_MESSAGES: bool(false),
  DISCORD_RENDER_BOT_MESSAGES: bool(false),
  // The bot's images are kept and shown later: "Today at …" would stop being true, so the date is the default.
  DISCORD_RENDER_TIMESTAMPS: z.enum(['absolute', 'calendar'], { error: 'must be absolute or calendar' }).default('absolute'),
  // The bot's images have no viewer to take a zone and a language from (the client uses each viewer's own).
  DISCORD_RENDER_TIME_ZONE: withDefault('UTC').refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin or UTC'),
  DISCORD_RENDER_LOCALE: withDefault('en-US').refine(isValidLocale, 'must be a BCP 47 language tag such as en-US, de or ru'),
  // The width the renderer takes (320–1200 CSS px, as POST /render/discord-message's `width`); the render service drew 450.
  DISCORD_RENDER_WIDTH: int(640, 320, 1200),
  DISCORD_PRESENCE_INTERVAL_MS: int(10000, 1000, 600000),
  DISCORD_CATCH_UP_LIMIT: int(200, 0, 10000),
  DISCORD_IMAGE_KEY_TEMPLATE: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? DEFAULT_IMAGE_KEY_TEMPLATE : value.trim()))
    .superRefine((template, ctx) => {
      for (const problem of imageKeyTemplateProblems(template)) ctx.addIssue({ code: 'custom', message: problem });
    }),
  DISCORD_SHARD_COUNT: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const text = value?.trim() ?? '';
      if (text === '') return 1;
      if (text === 'auto') return 'auto' as const;
      if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 100000) {
        ctx.addIssue({ code: 'custom', message: `must be a number of shards (1 or more) or "auto", got "${text}"` });
        return z.NEVER;
      }
      return Number(text);
    }),
  DISCORD_SHARDS: optionalString,
  DISCORD_COMMANDS: z.enum(['global', 'guild', 'off'], { error: 'must be one of global, guild, off' }).default('global'),
  DISCORD_COMMANDS_GUILDS: list([]).pipe(z.array(snowflake)),
  DISCORD_COMMANDS_ROLES: list([]).pipe(z.array(snowflake)),
  POD_ORDINAL: optionalString,
  HOSTNAME: optionalString,

  RENDER_API: featureSwitch,
  METRICS_API: featureSwitch,
  BROWSER_EXECUTABLE_PATH: optionalString,
  BROWSER_POOL_SIZE: int(2, 1, 32),
  RENDER_QUEUE_SIZE: int(64, 0, 10000),
  RENDER_TIMEOUT_MS: int(15000, 500, 120000),
  RENDER_PNG_ENCODING: z.enum(PNG_ENCODINGS, { error: `must be one of ${PNG_ENCODINGS.join(', ')}` }).default('compact'),
  RENDER_FETCH_ALLOWLIST: list(['cdn.discordapp.com', 'media.discordapp.net', 'images-ext-1.discordapp.net', 'images-ext-2.discordapp.net']),
  RENDER_FETCH_TIMEOUT_MS: int(5000, 100, 60000),
  RENDER_FETCH_MAX_BYTES: int(8 * 1024 * 1024, 1024, 100 * 1024 * 1024),

  DRONE_WEBHOOK_SECRET: optionalString,
  DRONE_CHANNEL_ID: optionalSnowflake,
  DRONE_REPO_CHANNELS: repoChannelMap,
  DRONE_SIGNATURE_MAX_SKEW_SECONDS: int(300, 1, 86400),
  DRONE_USER_MESSAGES: bool(true),
  DRONE_REPO_MESSAGES: bool(true),

  NOTIFY_DEFAULT_CHANNEL_ID: optionalSnowflake,
  NOTIFY_WAIT_TIMEOUT_MS: int(15000, 100, 120000),

  METRICS_MAX_CHARTS: int(10, 1, 100),
  METRICS_MAX_SERIES: int(20, 1, 200),
  METRICS_MAX_POINTS: int(10000, 1, 1000000),
  METRICS_MAX_WIDTH: int(2000, 100, 8000),
  METRICS_MAX_HEIGHT: int(2000, 100, 8000),
  METRICS_MAX_PIXELS: int(4_000_000, 10_000, 64_000_000),
  METRICS_PRESIGN_TTL_SECONDS: int(0, 0, 604800),
  METRICS_DASHBOARDS_FILE: optionalString,
  METRICS_PROMETHEUS_URL: optionalUrl(['http', 'https']),
  METRICS_PROMETHEUS_TOKEN: optionalString,
  METRICS_PROMETHEUS_USERNAME: optionalString,
  METRICS_PROMETHEUS_PASSWORD: optionalString,
  METRICS_FETCH_ALLOWLIST: list([]),
  METRICS_FETCH_TIMEOUT_MS: int(5000, 100, 60000),
  METRICS_FETCH_MAX_BYTES: int(8 * 1024 * 1024, 1024, 100 * 1024 * 1024),
  METRICS_DASHBOARD_MAX_AGE_SECONDS: int(60, 0, 86400),
  METRICS_S3_KEY_TEMPLATE: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? DEFAULT_PANEL_KEY_TEMPLATE : value.trim()))
    .superRefine((template, ctx) => {
      for (const problem of panelKeyTemplateProblems(template)) ctx.addIssue({ code: 'custom', message: problem });
    }),

  VK_TOKEN: optionalString,
  VK_GROUP_ID: z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()))
    // The forms VK itself writes the id in: its address (vk.com/club123, public123) and an owner id (-123).
    .transform((value) => value?.replace(/^(?:https?:\/\/)?(?:vk\.com\/)?(?:club|public|event)(?=\d+$)|^-(?=\d+$)/, ''))
    .pipe(
      z
        .string()
        .regex(/^\d+$/, {
          error: (issue) =>
            `must be the community's numeric id, not "${String(issue.input)}" (club123 and -123 are read as 123); ` +
            'a community with a short address (vk.com/<name>) has one too: "id" in the answer of groups.getById with group_id=<name>',
        })
        .optional(),
    ),
  VK_API_URL: url(['http', 'https']).default('https://api.vk.com/method'),
  VK_API_VERSION: z
    .string()
    .trim()
    .regex(/^\d+\.\d+$/, 'must look like 5.199')
    .default('5.199'),
  VK_LONGPOLL_WAIT_SECONDS: int(25, 1, 90),
  VK_COMMAND_PREFIXES: list(['/', '!']),
  VK_NAME_CACHE_TTL_SECONDS: int(600, 0, 86400),
  VK_ROUTES_FILE: optionalString,
  VK_HTTP_SIGNING_SECRET: optionalString,
  AMQP_URL: optionalUrl(['amqp', 'amqps']),
  REDIS_URL: optionalUrl(['redis', 'rediss']),
  VK_DEFAULT_DESTINATION: z.enum(['amqp', 'redis', 'redis-stream'], { error: 'must be one of amqp, redis, redis-stream' }).default('amqp'),
  VK_REDIS_PREFIX: z
    .string()
    .default('')
    .refine((value) => !/\s/.test(value), 'must not contain spaces')
    .refine((value) => value.length <= 64, 'must be at most 64 characters'),
  VK_REDIS_STREAM_MAXLEN: int(100_000, 1, 1_000_000_000),

  OUTBOX_BACKOFF_BASE_MS: int(1000, 10, 600000),
  OUTBOX_BACKOFF_MAX_MS: int(60000, 10, 3600000),
  OUTBOX_POLL_INTERVAL_MS: int(1000, 10, 60000),
  OUTBOX_CONCURRENCY: int(8, 1, 256),
  OUTBOX_RETENTION_HOURS: int(72, 1, 8760),
});

export type HeraldEnv = z.input<typeof envSchema>;

function shape(env: z.output<typeof envSchema>, raw: NodeJS.ProcessEnv) {
  const executablePath = env.BROWSER_EXECUTABLE_PATH ?? (existsSync(DEFAULT_CHROMIUM) ? DEFAULT_CHROMIUM : undefined);
  return {
    http: { port: env.PORT, host: env.HOST },
    roles: new Set<HeraldRole>(env.HERALD_ROLES),
    log: { level: env.LOG_LEVEL, pretty: env.LOG_PRETTY },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    mongo: { uri: env.MONGODB_URI, timeoutMs: env.MONGODB_TIMEOUT_MS, startupTimeoutMs: env.MONGODB_STARTUP_TIMEOUT_MS },
    s3: {
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION,
      bucket: env.S3_BUCKET,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      createBucket: env.S3_CREATE_BUCKET,
      publicUrl: env.S3_PUBLIC_URL?.replace(/\/+$/, ''),
      /** S3 counts as configured when a bucket or an endpoint is given: the features that keep images need it. */
      configured: Boolean(raw.S3_BUCKET?.trim() || raw.S3_ENDPOINT?.trim()),
      credentials:
        env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
          ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY }
          : undefined,
    },
    auth: {
      /** Accepted with every scope, under the name "system". */
      systemToken: env.SYSTEM_TOKEN,
      tokensFile: env.API_TOKENS_FILE,
      tokensPollIntervalMs: env.API_TOKENS_POLL_INTERVAL_MS,
      rateLimits: env.API_RATE_LIMITS,
    },
    backend: { url: env.BACKEND_URL, protocol: env.BACKEND_PROTOCOL, token: env.BACKEND_TOKEN ?? env.SYSTEM_TOKEN },
    discord: {
      token: env.DISCORD_TOKEN,
      apiUrl: env.DISCORD_API_URL.replace(/\/+$/, ''),
      cdnUrl: env.DISCORD_CDN_URL.replace(/\/+$/, ''),
      channelAllowlist: env.DISCORD_CHANNEL_ALLOWLIST,
      /** Keep every message of the watched channels as an image: asked for, or implied by a channel allowlist. */
      renderMessages: env.DISCORD_RENDER_MESSAGES || env.DISCORD_CHANNEL_ALLOWLIST.length > 0,
      renderBotMessages: env.DISCORD_RENDER_BOT_MESSAGES,
      renderTimestamps: env.DISCORD_RENDER_TIMESTAMPS,
      /** The zone and language of the dates on the bot's images ("Render as image" takes the member's language). */
      renderLook: { timeZone: env.DISCORD_RENDER_TIME_ZONE, locale: env.DISCORD_RENDER_LOCALE },
      /** The width in CSS pixels of the bot's message images (not of "Render as image", which keeps the renderer's default). */
      renderWidth: env.DISCORD_RENDER_WIDTH,
      presenceIntervalMs: env.DISCORD_PRESENCE_INTERVAL_MS,
      /** Messages per channel read back over REST when a shard starts a new session (MessageCatchUp); 0: none. */
      catchUpLimit: env.DISCORD_CATCH_UP_LIMIT,
      imageKeyTemplate: env.DISCORD_IMAGE_KEY_TEMPLATE,
      commands: {
        /** Where the application commands are registered: everywhere (global), in guilds (instant; development), or not at all. */
        registration: env.DISCORD_COMMANDS,
        /** Guilds whose members may use the commands (all when empty); with DISCORD_COMMANDS=guild, where they are registered. */
        guildIds: env.DISCORD_COMMANDS_GUILDS,
        /** Roles one of which a member needs to use the commands (none needed when empty). */
        roleIds: env.DISCORD_COMMANDS_ROLES,
      },
      sharding: {
        count: env.DISCORD_SHARD_COUNT,
        ids: 'all',
      } as DiscordSharding,
    },
    browser: {
      executablePath,
      poolSize: env.BROWSER_POOL_SIZE,
      queueSize: env.RENDER_QUEUE_SIZE,
      timeoutMs: env.RENDER_TIMEOUT_MS,
      pngEncoding: env.RENDER_PNG_ENCODING,
    },
    render: {
      api: env.RENDER_API,
      fetchAllowlist: env.RENDER_FETCH_ALLOWLIST.map((host) => host.toLowerCase()),
      fetchTimeoutMs: env.RENDER_FETCH_TIMEOUT_MS,
      fetchMaxBytes: env.RENDER_FETCH_MAX_BYTES,
    },
    drone: {
      webhookSecret: env.DRONE_WEBHOOK_SECRET,
      channelId: env.DRONE_CHANNEL_ID,
      repoChannels: env.DRONE_REPO_CHANNELS,
      maxSkewSeconds: env.DRONE_SIGNATURE_MAX_SKEW_SECONDS,
      userMessages: env.DRONE_USER_MESSAGES,
      repoMessages: env.DRONE_REPO_MESSAGES,
    },
    notify: { defaultChannelId: env.NOTIFY_DEFAULT_CHANNEL_ID, waitTimeoutMs: env.NOTIFY_WAIT_TIMEOUT_MS },
    metrics: {
      api: env.METRICS_API,
      maxCharts: env.METRICS_MAX_CHARTS,
      maxSeries: env.METRICS_MAX_SERIES,
      maxPoints: env.METRICS_MAX_POINTS,
      maxWidth: env.METRICS_MAX_WIDTH,
      maxHeight: env.METRICS_MAX_HEIGHT,
      maxPixels: env.METRICS_MAX_PIXELS,
      presignTtlSeconds: env.METRICS_PRESIGN_TTL_SECONDS,
      dashboardsFile: env.METRICS_DASHBOARDS_FILE,
      prometheus: env.METRICS_PROMETHEUS_URL
        ? {
            url: env.METRICS_PROMETHEUS_URL.replace(/\/+$/, ''),
            bearerToken: env.METRICS_PROMETHEUS_TOKEN,
            basic:
              env.METRICS_PROMETHEUS_USERNAME !== undefined
                ? { username: env.METRICS_PROMETHEUS_USERNAME, password: env.METRICS_PROMETHEUS_PASSWORD ?? '' }
                : undefined,
          }
        : undefined,
      /** Hosts JSON data sources may be fetched from; the Prometheus host is always allowed. */
      fetchAllowlist: env.METRICS_FETCH_ALLOWLIST.map((host) => host.toLowerCase()),
      fetchTimeoutMs: env.METRICS_FETCH_TIMEOUT_MS,
      fetchMaxBytes: env.METRICS_FETCH_MAX_BYTES,
      /** Cache-Control max-age of a dashboard panel's stable key. */
      dashboardMaxAgeSeconds: env.METRICS_DASHBOARD_MAX_AGE_SECONDS,
      /** Where a dashboard panel is kept (`{dashboard}`, `{panel}`). */
      panelKeyTemplate: env.METRICS_S3_KEY_TEMPLATE,
    },
    vk: {
      token: env.VK_TOKEN,
      groupId: env.VK_GROUP_ID === undefined ? undefined : Number(env.VK_GROUP_ID),
      apiUrl: env.VK_API_URL.replace(/\/+$/, ''),
      apiVersion: env.VK_API_VERSION,
      longPollWaitSeconds: env.VK_LONGPOLL_WAIT_SECONDS,
      commandPrefixes: env.VK_COMMAND_PREFIXES,
      nameCacheTtlSeconds: env.VK_NAME_CACHE_TTL_SECONDS,
      routesFile: env.VK_ROUTES_FILE,
      httpSigningSecret: env.VK_HTTP_SIGNING_SECRET,
      /** What the default route set (one destination per event type) publishes to. */
      defaultDestination: env.VK_DEFAULT_DESTINATION,
      redisPrefix: env.VK_REDIS_PREFIX,
      redisStreamMaxLen: env.VK_REDIS_STREAM_MAXLEN,
    },
    amqp: { url: env.AMQP_URL },
    redis: { url: env.REDIS_URL },
    outbox: {
      backoffBaseMs: env.OUTBOX_BACKOFF_BASE_MS,
      backoffMaxMs: env.OUTBOX_BACKOFF_MAX_MS,
      pollIntervalMs: env.OUTBOX_POLL_INTERVAL_MS,
      concurrency: env.OUTBOX_CONCURRENCY,
      retentionMs: env.OUTBOX_RETENTION_HOURS * 3_600_000,
    },
  };
}

export type AppConfig = ReturnType<typeof shape>;

/**
 * Whether LOG_PRETTY asks for readable lines, read on its own: a start-up that fails on another setting still says
 * why in the form the person asked for.
 */
export function prettyLogsAsked(env: NodeJS.ProcessEnv): boolean {
  const parsed = bool(false).safeParse(env.LOG_PRETTY?.trim() || undefined);
  return parsed.success && parsed.data;
}

/** Reads and validates the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): AppConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // A list's entry is named by its place: DISCORD_CHANNEL_ALLOWLIST[1].
    const where = (path: PropertyKey[]) =>
      path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index ? '.' : ''}${String(key)}`)).join('');
    throw new ConfigError(parsed.error.issues.map((issue) => `${where(issue.path) || '(environment)'}: ${issue.message}`));
  }
  const config = shape(parsed.data, env);
  const problems: string[] = [];
  if (config.vk.token && config.vk.groupId === undefined) problems.push('VK_GROUP_ID: is required when VK_TOKEN is set');
  if (Boolean(env.AWS_ACCESS_KEY_ID?.trim()) !== Boolean(env.AWS_SECRET_ACCESS_KEY?.trim())) {
    problems.push('AWS_SECRET_ACCESS_KEY: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together');
  }
  if (config.backend.url && config.backend.protocol === 'legacy' && !config.s3.publicUrl) {
    problems.push("S3_PUBLIC_URL: is required when BACKEND_PROTOCOL=legacy (the render service's backend is sent public image URLs in s3_urn)");
  }
  const shards = parseShardIds(parsed.data.DISCORD_SHARDS, parsed.data.POD_ORDINAL, parsed.data.HOSTNAME ?? hostname());
  const shardCount = config.discord.sharding.count;
  if ('problem' in shards) problems.push(`DISCORD_SHARDS: ${shards.problem}`);
  else if (shards.ids !== 'all' && shardCount === 'auto') {
    problems.push(
      'DISCORD_SHARDS: a list, range or ordinal needs a fixed DISCORD_SHARD_COUNT (with "auto" two processes could be told different counts and hold overlapping shards)',
    );
  } else if (shards.ids !== 'all' && typeof shardCount === 'number' && shards.ids.some((id) => id >= shardCount)) {
    problems.push(`DISCORD_SHARDS: shard ids must be below DISCORD_SHARD_COUNT (${shardCount}), got ${shards.ids.join(', ')}`);
  } else config.discord.sharding.ids = shards.ids;
  if (config.log.pretty && !isInstalled('pino-pretty')) {
    problems.push('LOG_PRETTY: pino-pretty is not installed here (logs stay JSON lines without it; leave LOG_PRETTY unset)');
  }
  if (env.METRICS_PROMETHEUS_TOKEN?.trim() && env.METRICS_PROMETHEUS_USERNAME?.trim()) {
    problems.push('METRICS_PROMETHEUS_TOKEN: set either a bearer token or METRICS_PROMETHEUS_USERNAME / _PASSWORD, not both');
  }
  if (Boolean(env.METRICS_PROMETHEUS_USERNAME?.trim()) !== Boolean(env.METRICS_PROMETHEUS_PASSWORD?.trim())) {
    problems.push('METRICS_PROMETHEUS_PASSWORD: METRICS_PROMETHEUS_USERNAME and METRICS_PROMETHEUS_PASSWORD must be set together');
  }
  if ((env.METRICS_PROMETHEUS_TOKEN?.trim() || env.METRICS_PROMETHEUS_USERNAME?.trim()) && !config.metrics.prometheus) {
    problems.push('METRICS_PROMETHEUS_URL: is required when Prometheus credentials are set');
  }
  if (config.outbox.backoffMaxMs < config.outbox.backoffBaseMs) {
    problems.push('OUTBOX_BACKOFF_MAX_MS: must not be smaller than OUTBOX_BACKOFF_BASE_MS');
  }
  const secrets: [string, string | undefined][] = [
    ['SYSTEM_TOKEN', config.auth.systemToken],
    ['BACKEND_TOKEN', env.BACKEND_TOKEN],
    ['DRONE_WEBHOOK_SECRET', config.drone.webhookSecret],
    ['VK_HTTP_SIGNING_SECRET', config.vk.httpSigningSecret],
    // The example Secret's other keys: a copy applied unedited would otherwise crash-loop on refused logins.
    ['DISCORD_TOKEN', env.DISCORD_TOKEN],
    ['VK_TOKEN', env.VK_TOKEN],
    ['AWS_ACCESS_KEY_ID', env.AWS_ACCESS_KEY_ID],
    ['AWS_SECRET_ACCESS_KEY', env.AWS_SECRET_ACCESS_KEY],
    ['AMQP_URL', urlPassword(env.AMQP_URL)],
  ];
  for (const [name, secret] of secrets) {
    if (secret && isPlaceholder(secret.trim())) {
      problems.push(`${name}: is a placeholder from Herald's docs or example manifests; choose a random one (e.g. openssl rand -base64 32)`);
    }
  }
  if (!config.auth.systemToken && !config.auth.tokensFile) {
    problems.push('SYSTEM_TOKEN: is required unless API_TOKENS_FILE is set (the bearer token clients send to Herald)');
  }
  if (config.backend.url && !config.backend.token) {
    problems.push('BACKEND_TOKEN: is required when BACKEND_URL is set and SYSTEM_TOKEN is not (the bearer token Herald sends to the backend)');
  }
  const s3Missing = 'set S3_BUCKET (and S3_ENDPOINT for a server other than AWS S3)';
  if (config.discord.renderMessages && config.discord.token && !config.s3.configured) {
    problems.push(`DISCORD_RENDER_MESSAGES: rendering Discord messages keeps their images in S3: ${s3Missing}`);
  }
  if (config.render.api === 'true' && !config.s3.configured) problems.push(`RENDER_API: the render endpoints keep images in S3: ${s3Missing}`);
  if (config.metrics.api === 'true' && !config.s3.configured) problems.push(`METRICS_API: metrics charts are kept in S3: ${s3Missing}`);
  if (problems.length) throw new ConfigError(problems);
  return config;
}

function isInstalled(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** Which features run in this process, from their own settings and HERALD_ROLES. */
export function enabledFeatures(config: AppConfig) {
  const api = config.roles.has('api');
  const discordRest = Boolean(config.discord.token);
  const discordBot = discordRest && config.roles.has('discord');
  const vk = Boolean(config.vk.token) && config.vk.groupId !== undefined;
  const byS3 = (setting: 'auto' | 'true' | 'false') => setting === 'true' || (setting === 'auto' && config.s3.configured);
  return {
    discordRest,
    /** The gateway connection: presence from health, and the home of the message images when asked for. */
    discordBot,
    /** Every message of the watched channels kept as an image in S3 (DISCORD_RENDER_MESSAGES). */
    messageImages: discordBot && config.discord.renderMessages,
    /** Slash commands and the "Render as image" context menu (DISCORD_COMMANDS). */
    discordCommands: discordBot && config.discord.commands.registration !== 'off',
    /** "Render as image" draws with Chromium and keeps the PNG in S3, so it is offered where S3 is configured. */
    commandImages: discordBot && config.discord.commands.registration !== 'off' && config.s3.configured,
    drone: api && discordRest && Boolean(config.drone.webhookSecret),
    notify: api && discordRest,
    render: api && byS3(config.render.api),
    metrics: api && byS3(config.metrics.api),
    vk,
    /** Exactly one replica should run the VK poller (VK invalidates a second poller's key). */
    vkPoller: config.roles.has('vk') && vk,
    backend: Boolean(config.backend.url),
  };
}

export type EnabledFeatures = ReturnType<typeof enabledFeatures>;

export interface FeatureState {
  name: string;
  on: boolean;
  /** The settings that turned it on, or what it lacks to be on. */
  because: string;
  /** The outside systems it needs, in readiness-check names. */
  uses: string[];
}

/** One entry per feature, for the start-up line and for the 503 of an endpoint whose feature is off. */
export function describeFeatures(config: AppConfig): FeatureState[] {
  const on = enabledFeatures(config);
  const api = config.roles.has('api');
  const noApi = 'HERALD_ROLES has no "api" in this process';
  const s3Switch = (variable: string, setting: 'auto' | 'true' | 'false') =>
    setting === 'true'
      ? `${variable}=true`
      : setting === 'false'
        ? `${variable}=false`
        : config.s3.configured
          ? 'S3 is configured (S3_BUCKET / S3_ENDPOINT)'
          : `set S3_BUCKET (or ${variable}=true)`;
  return [
    {
      name: 'discord-bot',
      on: on.discordBot,
      because: !config.discord.token ? 'set DISCORD_TOKEN' : on.discordBot ? 'DISCORD_TOKEN' : 'HERALD_ROLES has no "discord" in this process',
      uses: ['mongodb', 'discord'],
    },
    {
      name: 'message-images',
      on: on.messageImages,
      because: on.messageImages
        ? config.discord.channelAllowlist.length
          ? 'DISCORD_CHANNEL_ALLOWLIST'
          : 'DISCORD_RENDER_MESSAGES=true'
        : on.discordBot
          ? 'set DISCORD_RENDER_MESSAGES=true'
          : 'needs the discord-bot feature and DISCORD_RENDER_MESSAGES=true',
      uses: [
        'mongodb',
        'storage',
        'browser',
        'discord',
        ...(on.backend ? [config.backend.protocol === 'legacy' ? 'backend (BACKEND_PROTOCOL=legacy)' : 'backend'] : []),
      ],
    },
    {
      name: 'discord-commands',
      on: on.discordCommands,
      because: on.discordCommands
        ? `DISCORD_COMMANDS=${config.discord.commands.registration}${on.commandImages ? '' : ' ("Render as image" needs S3: set S3_BUCKET)'}`
        : on.discordBot
          ? 'DISCORD_COMMANDS=off'
          : 'needs the discord-bot feature',
      uses: ['mongodb', 'discord', ...(on.commandImages ? ['storage', 'browser'] : [])],
    },
    {
      name: 'drone',
      on: on.drone,
      because: on.drone ? 'DRONE_WEBHOOK_SECRET + DISCORD_TOKEN' : !api ? noApi : `set ${droneMissing(config).join(' and ')}`,
      uses: ['mongodb', 'discord-api'],
    },
    { name: 'notify', on: on.notify, because: on.notify ? 'DISCORD_TOKEN' : !api ? noApi : 'set DISCORD_TOKEN', uses: ['mongodb', 'discord-api'] },
    { name: 'render', on: on.render, because: !api ? noApi : s3Switch('RENDER_API', config.render.api), uses: ['storage', 'browser'] },
    {
      name: 'metrics',
      on: on.metrics,
      because: !api ? noApi : s3Switch('METRICS_API', config.metrics.api),
      uses: [
        'storage',
        'browser',
        'mongodb',
        ...(config.metrics.dashboardsFile ? ['dashboards (METRICS_DASHBOARDS_FILE)'] : []),
        ...(config.metrics.prometheus ? ['prometheus'] : []),
        ...(on.backend && config.metrics.dashboardsFile
          ? [config.backend.protocol === 'legacy' ? 'backend (BACKEND_PROTOCOL=legacy)' : 'backend']
          : []),
      ],
    },
    {
      name: 'vk',
      on: on.vk,
      because: on.vk ? `VK_TOKEN + VK_GROUP_ID${on.vkPoller ? '' : ' (poller in processes with the "vk" role)'}` : 'set VK_TOKEN and VK_GROUP_ID',
      uses: ['mongodb', ...(on.vkPoller ? ['vk'] : [])],
    },
  ];
}

/** What the Drone feature still lacks, so the features line names only that. */
function droneMissing(config: AppConfig): string[] {
  return [...(config.drone.webhookSecret ? [] : ['DRONE_WEBHOOK_SECRET']), ...(config.discord.token ? [] : ['DISCORD_TOKEN'])];
}

/** Placeholders a dashboard panel's key template may use; `{panel}` is required (with `{dashboard}`, every panel has a key of its own). */
export const PANEL_KEY_PLACEHOLDERS = ['dashboard', 'panel'] as const;
export const DEFAULT_PANEL_KEY_TEMPLATE = 'metrics/{dashboard}/{panel}.png';

function panelKeyTemplateProblems(template: string): string[] {
  const problems: string[] = [];
  const unknown = [...template.matchAll(/\{([^}]*)\}/g)]
    .map((match) => match[1])
    .filter((name) => !(PANEL_KEY_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length)
    problems.push(
      `unknown placeholder(s) ${unknown.map((name) => `{${name}}`).join(', ')}; allowed: ${PANEL_KEY_PLACEHOLDERS.map((name) => `{${name}}`).join(', ')}`,
    );
  if (!template.includes('{panel}')) problems.push('must contain {panel}, so each panel gets a key of its own');
  if (template.startsWith('/')) problems.push('must not start with "/" (S3 keys are relative to the bucket)');
  if (template.length > 512) problems.push('must be at most 512 characters');
  return problems;
}
