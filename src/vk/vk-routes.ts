// Where VK events go: the routes file (YAML or JSON, validated once at start) plus the default route set of one
// destination per event type (a durable RabbitMQ queue, a Redis channel or a Redis stream: VK_DEFAULT_DESTINATION),
// and `routeEvent`, which picks an event's destinations.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { z } from 'zod';
import type { AppConfig } from '../config/config';
import { VK_EVENT_SCHEMA, VK_EVENT_TYPES, type VkEvent, type VkEventType } from './vk-event';
import { commandOf } from './vk-normaliser';

export const VK_ROUTES = Symbol('VK_ROUTES');

/** The event types the default route set sends to a queue, channel or stream of the same name. */
export const DEFAULT_QUEUE_EVENT_TYPES: readonly VkEventType[] = ['command', 'message', 'button', 'reaction'];

const name = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][\w.:-]{0,63}$/, 'must be 1-64 letters, digits, "_", "-", "." or ":" starting with a letter or digit');

const amqpDestination = z.strictObject({
  type: z.literal('amqp'),
  queue: z.string().trim().min(1).max(255),
});
const httpDestination = z.strictObject({
  type: z.literal('http'),
  url: z
    .string()
    .trim()
    .refine((value) => /^https?:$/.test(safeProtocol(value)), 'must be an http:// or https:// URL'),
  /** HMAC key for X-Herald-Signature; VK_HTTP_SIGNING_SECRET when absent. */
  secret: z.string().min(16, 'must be at least 16 characters').optional(),
});
const discordDestination = z.strictObject({
  type: z.literal('discord'),
  channelId: z
    .string()
    .trim()
    .regex(/^\d{15,21}$/, 'must be a Discord channel id (a snowflake of 15-21 digits)'),
});
const redisDestination = z
  .strictObject({
    type: z.literal('redis'),
    /** publish: PUBLISH on a channel (only live subscribers get it); stream: XADD to a stream that keeps it for consumer groups. */
    mode: z.enum(['publish', 'stream']).default('publish'),
    /** One fixed channel or stream key for every event; when absent, `<VK_REDIS_PREFIX><event_type>`. */
    channel: z
      .string()
      .trim()
      .regex(/^\S{1,255}$/, 'must be 1-255 characters without spaces')
      .optional(),
    /** stream: keep about this many entries (XADD MAXLEN ~); VK_REDIS_STREAM_MAXLEN when absent. */
    maxLen: z.number().int().min(1).max(1_000_000_000).optional(),
  })
  .refine((destination) => destination.mode === 'stream' || destination.maxLen === undefined, {
    message: 'maxLen applies to mode: stream only',
    path: ['maxLen'],
  });
const destinationSchema = z.discriminatedUnion('type', [amqpDestination, httpDestination, discordDestination, redisDestination]);

/** A single value or a list; errors point at the offending item (`routes.0.event_type.1`). */
const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.preprocess((value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : [value]), z.array(item).min(1));

const routeSchema = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  event_type: oneOrMany(z.enum(VK_EVENT_TYPES)),
  /** Only these VK peer ids (2000000001 for chat 1). */
  peers: z.array(z.number().int()).min(1).optional(),
  /** Only these command names, without the prefix ("ban" matches "/ban" and "!ban"). */
  commands: z
    .array(
      z
        .string()
        .trim()
        .min(1)
        .transform((v) => v.toLowerCase()),
    )
    .min(1)
    .optional(),
  to: oneOrMany(name),
});

const routesFileSchema = z.strictObject({
  /** Keep the default route set (a queue, channel or stream per event type: VK_DEFAULT_DESTINATION) beside the routes below. */
  defaultQueues: z.boolean().default(true),
  destinations: z.record(name, destinationSchema).default({}),
  routes: z.array(routeSchema).default([]),
});

export type VkDestinationSpec = z.infer<typeof destinationSchema>;
/** A Redis destination with the configuration filled in: where each event type goes and how long a stream may grow. */
export interface VkRedisDestination {
  type: 'redis';
  mode: 'publish' | 'stream';
  /** The fixed channel / stream key, or null for `<prefix><event_type>`. */
  channel: string | null;
  prefix: string;
  maxLen: number;
}
export type VkDestination = (
  z.infer<typeof amqpDestination> | (z.infer<typeof httpDestination> & { secret: string }) | z.infer<typeof discordDestination> | VkRedisDestination
) & { name: string };
/** A route in force: every one has a name (see buildRouting). */
export type VkRoute = z.infer<typeof routeSchema> & { name: string };

export interface VkRouting {
  /** The file the routes came from; null for the default route set alone. */
  source: string | null;
  defaultQueues: boolean;
  /** What the default route set publishes to (when defaultQueues is on). */
  defaultDestination: AppConfig['vk']['defaultDestination'];
  destinations: Map<string, VkDestination>;
  routes: VkRoute[];
}

export class VkRoutesError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid VK routes:\n  - ${problems.join('\n  - ')}`);
    this.name = 'VkRoutesError';
  }
}

/** Reads VK_ROUTES_FILE (when set), checks it against the configuration, and adds the default route set. */
export function loadVkRouting(config: AppConfig): VkRouting {
  const file = config.vk.routesFile;
  const raw = file ? readRoutesFile(file) : {};
  const parsed = routesFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new VkRoutesError(parsed.error.issues.map((issue) => `${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`));
  }
  return buildRouting(parsed.data, file ?? null, config);
}

export function buildRouting(spec: z.output<typeof routesFileSchema>, source: string | null, config: AppConfig): VkRouting {
  const problems: string[] = [];
  const where = source ?? 'default routes';
  const destinations = new Map<string, VkDestination>();
  const routes: VkRoute[] = [];

  if (spec.defaultQueues) {
    const kind = config.vk.defaultDestination;
    for (const type of DEFAULT_QUEUE_EVENT_TYPES) {
      const destination = defaultDestinationName(type, kind);
      if (kind === 'amqp') {
        destinations.set(destination, { name: destination, type: 'amqp', queue: type });
        routes.push({ name: `default: ${type} → queue ${type}`, event_type: [type], to: [destination] });
      } else {
        const mode = kind === 'redis' ? 'publish' : 'stream';
        const { redisPrefix: prefix, redisStreamMaxLen: maxLen } = config.vk;
        destinations.set(destination, { name: destination, type: 'redis', mode, channel: null, prefix, maxLen });
        const where = `${mode === 'publish' ? 'channel' : 'stream'} ${config.vk.redisPrefix}${type}`;
        routes.push({ name: `default: ${type} → Redis ${where}`, event_type: [type], to: [destination] });
      }
    }
  }
  for (const [destinationName, destination] of Object.entries(spec.destinations)) {
    if (destinations.has(destinationName)) {
      problems.push(`${where}: destinations.${destinationName}: the name is taken by the default route set`);
      continue;
    }
    if (destination.type === 'http') {
      const secret = destination.secret ?? config.vk.httpSigningSecret;
      if (!secret) {
        problems.push(`${where}: destinations.${destinationName}.secret: set it, or VK_HTTP_SIGNING_SECRET, to sign webhooks`);
        continue;
      }
      destinations.set(destinationName, { ...destination, secret, name: destinationName });
    } else if (destination.type === 'redis') {
      destinations.set(destinationName, {
        name: destinationName,
        type: 'redis',
        mode: destination.mode,
        channel: destination.channel ?? null,
        prefix: config.vk.redisPrefix,
        maxLen: destination.maxLen ?? config.vk.redisStreamMaxLen,
      });
    } else {
      destinations.set(destinationName, { ...destination, name: destinationName });
    }
  }
  spec.routes.forEach((route, index) => {
    for (const target of route.to) {
      if (!destinations.has(target) && !spec.destinations[target]) {
        problems.push(`${where}: routes.${index}.to: no destination named "${target}"`);
      }
    }
    // Unnamed, it is called by its place in the file, as the file's problems name it.
    routes.push({ ...route, name: route.name ?? `routes.${index}` });
  });

  const used = new Set(routes.flatMap((route) => route.to));
  const usedTypes = new Set([...destinations.values()].filter((d) => used.has(d.name)).map((d) => d.type));
  const defaultKind = spec.defaultQueues ? config.vk.defaultDestination : null;
  if (usedTypes.has('amqp') && !config.amqp.url) {
    problems.push(
      defaultKind === 'amqp'
        ? 'AMQP_URL: is required for the default VK route set (a RabbitMQ queue per event type); set it, or set defaultQueues: false in VK_ROUTES_FILE'
        : 'AMQP_URL: is required by the amqp destinations in VK_ROUTES_FILE',
    );
  }
  if (usedTypes.has('redis') && !config.redis.url) {
    problems.push(
      defaultKind === 'redis' || defaultKind === 'redis-stream'
        ? `REDIS_URL: is required for the default VK route set (VK_DEFAULT_DESTINATION=${defaultKind}); set it, or set defaultQueues: false in VK_ROUTES_FILE`
        : 'REDIS_URL: is required by the redis destinations in VK_ROUTES_FILE',
    );
  }
  if (usedTypes.has('discord') && !config.discord.token) {
    problems.push('DISCORD_TOKEN: is required by the discord destinations in VK_ROUTES_FILE');
  }
  if (problems.length) throw new VkRoutesError(problems);
  return { source, defaultQueues: spec.defaultQueues, defaultDestination: config.vk.defaultDestination, destinations, routes };
}

/** `queue:command` for RabbitMQ, `redis:command` for a Redis channel, `stream:command` for a Redis stream. */
export function defaultDestinationName(type: VkEventType, kind: AppConfig['vk']['defaultDestination']): string {
  const label = kind === 'amqp' ? 'queue' : kind === 'redis' ? 'redis' : 'stream';
  return `${label}:${type}`;
}

/** The channel (publish) or stream key (stream) an event goes to at a Redis destination. */
export function redisKey(destination: VkRedisDestination, eventType: VkEventType): string {
  return destination.channel ?? `${destination.prefix}${eventType}`;
}

/** Names of the destinations an event goes to, each once, in the order the routes name them. */
export function routeEvent(event: VkEvent, routing: VkRouting, commandPrefixes: readonly string[]): string[] {
  const targets = new Set<string>();
  for (const route of routing.routes) {
    if (!route.event_type.includes(event.event_type)) continue;
    if (route.peers && !route.peers.includes(event.peer.bpid)) continue;
    if (route.commands) {
      const command = event.message ? commandOf(event.message.text, commandPrefixes) : null;
      if (command === null || !route.commands.includes(command)) continue;
    }
    for (const target of route.to) targets.add(target);
  }
  return [...targets];
}

/** The routing as GET /vk/routes shows it: secrets never leave the process. */
export function describeRouting(routing: VkRouting) {
  return {
    source: routing.source ?? 'default',
    defaultQueues: routing.defaultQueues,
    defaultDestination: routing.defaultDestination,
    destinations: [...routing.destinations.values()].map((destination) => describeDestination(destination, routing.routes)),
    routes: routing.routes.map((route) => ({
      name: route.name,
      event_type: route.event_type,
      peers: route.peers ?? null,
      commands: route.commands ?? null,
      to: route.to,
    })),
    eventSchema: VK_EVENT_SCHEMA,
  };
}

function describeDestination(destination: VkDestination, routes: readonly VkRoute[]) {
  switch (destination.type) {
    case 'http':
      return { name: destination.name, type: destination.type, url: redactUrl(destination.url), signed: true };
    case 'redis': {
      // The concrete channel or stream key of each event type the routes send here: a reader of the routing needs
      // `vk:command`, not the rule it follows.
      const types = VK_EVENT_TYPES.filter((type) => routes.some((route) => route.to.includes(destination.name) && route.event_type.includes(type)));
      const channels = Object.fromEntries(types.map((type) => [type, redisKey(destination, type)]));
      const perEventType = destination.channel === null;
      return {
        name: destination.name,
        type: destination.type,
        mode: destination.mode,
        channel: destination.channel ?? (types.length === 1 ? channels[types[0]] : `${destination.prefix}<event_type>`),
        perEventType,
        channels,
        ...(destination.mode === 'stream' ? { maxLen: destination.maxLen } : {}),
      };
    }
    default:
      return { ...destination };
  }
}

function readRoutesFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new VkRoutesError([`VK_ROUTES_FILE: cannot read ${file}: ${(error as Error).message}`]);
  }
  try {
    return extname(file).toLowerCase() === '.json' ? JSON.parse(text) : (loadYaml(text) ?? {});
  } catch (error) {
    throw new VkRoutesError([`VK_ROUTES_FILE: ${file} is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`]);
  }
}

function safeProtocol(value: string): string {
  try {
    return new URL(value).protocol;
  } catch {
    return '';
  }
}

/** Drops credentials and the query string (where tokens tend to hide) from a URL shown to operators. */
function redactUrl(value: string): string {
  const url = new URL(value);
  url.username = '';
  url.password = '';
  url.search = '';
  return url.toString();
}
