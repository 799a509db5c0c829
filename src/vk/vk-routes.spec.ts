import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type AppConfig } from '../config/config';
import type { VkEvent } from './vk-event';
import { describeRouting, loadVkRouting, redisKey, routeEvent, VkRoutesError } from './vk-routes';

const BASE_ENV = {
  MONGODB_URI: 'mongodb://127.0.0.1:1/x',
  S3_BUCKET: 'herald-spec',
  SYSTEM_TOKEN: 'system-token-0123456789abcdef',
  VK_TOKEN: 'vk-token',
  VK_GROUP_ID: '1',
};

function configWith(env: Record<string, string>): AppConfig {
  return loadConfig({ ...BASE_ENV, ...env });
}

function routesFile(content: string, extension = '.yaml'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vk-routes-spec-')), `routes${extension}`);
  writeFileSync(file, content);
  return file;
}

function event(overrides: Partial<VkEvent>): VkEvent {
  return {
    event_id: 'e1',
    event_type: 'message',
    peer: { bpid: 2000000001, cid: 1, name: 'Chat' },
    user: { uuid: 1, name: 'A B', firstname: 'A', lastname: 'B', nick: 'ab' },
    message: { cmid: 1, text: 'hello', reply: null, forward: [], forward_other: [], attachments: [], attachment_refs: [] },
    ...overrides,
  };
}

const withAmqp = { AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672' };

describe('loadVkRouting', () => {
  it('without a routes file routes command, message, button and reaction to a durable queue of the same name', () => {
    const routing = loadVkRouting(configWith(withAmqp));

    expect([...routing.destinations.values()]).toEqual([
      { name: 'queue:command', type: 'amqp', queue: 'command' },
      { name: 'queue:message', type: 'amqp', queue: 'message' },
      { name: 'queue:button', type: 'amqp', queue: 'button' },
      { name: 'queue:reaction', type: 'amqp', queue: 'reaction' },
    ]);
    expect(routeEvent(event({ event_type: 'command' }), routing, ['/'])).toEqual(['queue:command']);
    expect(routeEvent(event({ event_type: 'reaction' }), routing, ['/'])).toEqual(['queue:reaction']);
    expect(routeEvent(event({ event_type: 'message_edit' }), routing, ['/'])).toEqual([]);
  });

  it('refuses to start the default route set without AMQP_URL, naming the variable', () => {
    expect(() => loadVkRouting(configWith({}))).toThrow(/AMQP_URL: is required for the default VK route set/);
  });

  it('reads YAML destinations and routes and matches on event type, peer and command name', () => {
    const file = routesFile(`
destinations:
  mod-hook: { type: http, url: "https://mod.example.com/vk?token=abc", secret: "0123456789abcdef-secret" }
  ban-queue: { type: amqp, queue: vk.bans }
routes:
  - name: bans in chat 1
    event_type: command
    peers: [2000000001]
    commands: [Ban, kick]
    to: [ban-queue, mod-hook]
  - event_type: [button]
    to: mod-hook
`);
    const routing = loadVkRouting(configWith({ ...withAmqp, VK_ROUTES_FILE: file }));
    const ban = event({
      event_type: 'command',
      message: { cmid: 1, text: '!ban @x', reply: null, forward: [], forward_other: [], attachments: [], attachment_refs: [] },
    });

    expect(routeEvent(ban, routing, ['/', '!'])).toEqual(['queue:command', 'ban-queue', 'mod-hook']);
    expect(routeEvent({ ...ban, peer: { bpid: 2000000002, cid: 2, name: null } }, routing, ['/', '!'])).toEqual(['queue:command']);
    expect(
      routeEvent(
        event({
          event_type: 'command',
          message: { cmid: 1, text: '/warn', reply: null, forward: [], forward_other: [], attachments: [], attachment_refs: [] },
        }),
        routing,
        ['/'],
      ),
    ).toEqual(['queue:command']);
    expect(routeEvent(event({ event_type: 'button', message: undefined }), routing, ['/'])).toEqual(['queue:button', 'mod-hook']);
    // A route without a name is called by its place in the file.
    expect(describeRouting(routing).routes.map((route) => route.name)).toEqual([
      'default: command → queue command',
      'default: message → queue message',
      'default: button → queue button',
      'default: reaction → queue reaction',
      'bans in chat 1',
      'routes.1',
    ]);
  });

  it('signs with VK_HTTP_SIGNING_SECRET when a webhook has no secret, and never shows a secret or the query string', () => {
    const file = routesFile(JSON.stringify({ destinations: { hook: { type: 'http', url: 'https://u:p@hook.example.com/in?key=k' } } }), '.json');
    const routing = loadVkRouting(configWith({ ...withAmqp, VK_ROUTES_FILE: file, VK_HTTP_SIGNING_SECRET: 'fallback-secret-0123456789' }));

    expect(routing.destinations.get('hook')).toMatchObject({ type: 'http', secret: 'fallback-secret-0123456789' });
    const shown = describeRouting(routing);
    expect(shown.destinations).toContainEqual({ name: 'hook', type: 'http', url: 'https://hook.example.com/in', signed: true });
    expect(JSON.stringify(shown)).not.toMatch(/fallback-secret|key=k|u:p/);
  });

  it('names every problem of a bad file: unknown fields, bad values, missing destinations and secrets', () => {
    const file = routesFile(`
defaultQueues: false
destinations:
  hook: { type: http, url: "ftp://x" }
  unsigned: { type: http, url: "https://x.example.com" }
  bridge: { type: discord, channelId: "general" }
routes:
  - event_type: [comand]
    to: [nowhere]
    extra: 1
`);
    let error: unknown;
    try {
      loadVkRouting(configWith({ VK_ROUTES_FILE: file }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(VkRoutesError);
    const message = (error as Error).message;
    expect(message).toContain('destinations.hook.url: must be an http:// or https:// URL');
    expect(message).toContain('destinations.bridge.channelId: must be a Discord channel id');
    expect(message).toMatch(/routes\.0\.event_type\.0: .*"command"/);
    expect(message).toMatch(/routes\.0: .*"extra"/);
  });

  it('checks references and credentials once the file itself is well formed', () => {
    const file = routesFile(`
defaultQueues: false
destinations:
  unsigned: { type: http, url: "https://x.example.com" }
  bridge: { type: discord, channelId: "123456789012345678" }
routes:
  - event_type: command
    to: [nowhere, bridge]
`);
    expect(() => loadVkRouting(configWith({ VK_ROUTES_FILE: file }))).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          /destinations\.unsigned\.secret: set it, or VK_HTTP_SIGNING_SECRET[\s\S]*routes\.0\.to: no destination named "nowhere"[\s\S]*DISCORD_TOKEN: is required/,
        ),
      }),
    );
  });

  it('with VK_DEFAULT_DESTINATION=redis publishes each event type on a Redis channel of its name, with the prefix', () => {
    const routing = loadVkRouting(configWith({ REDIS_URL: 'redis://127.0.0.1:6379', VK_DEFAULT_DESTINATION: 'redis', VK_REDIS_PREFIX: 'vk.' }));

    expect([...routing.destinations.values()]).toEqual(
      ['command', 'message', 'button', 'reaction'].map((type) => ({
        name: `redis:${type}`,
        type: 'redis',
        mode: 'publish',
        channel: null,
        prefix: 'vk.',
        maxLen: 100_000,
      })),
    );
    const destination = routing.destinations.get('redis:button');
    expect(destination?.type === 'redis' && redisKey(destination, 'button')).toBe('vk.button');
    expect(routeEvent(event({ event_type: 'command' }), routing, ['/'])).toEqual(['redis:command']);
    expect(routeEvent(event({ event_type: 'message_edit' }), routing, ['/'])).toEqual([]);
    // Each default destination takes one event type: its view names the channel, not the rule.
    expect(describeRouting(routing).destinations[0]).toEqual({
      name: 'redis:command',
      type: 'redis',
      mode: 'publish',
      channel: 'vk.command',
      perEventType: true,
      channels: { command: 'vk.command' },
    });
    expect(JSON.stringify(describeRouting(routing))).not.toContain('<event_type>');
  });

  it('with VK_DEFAULT_DESTINATION=redis-stream appends to a capped stream per event type', () => {
    const routing = loadVkRouting(
      configWith({ REDIS_URL: 'rediss://u:p@redis.example.com:6380/2', VK_DEFAULT_DESTINATION: 'redis-stream', VK_REDIS_STREAM_MAXLEN: '5000' }),
    );
    expect(routing.destinations.get('stream:reaction')).toEqual({
      name: 'stream:reaction',
      type: 'redis',
      mode: 'stream',
      channel: null,
      prefix: '',
      maxLen: 5000,
    });
    expect(describeRouting(routing).destinations).toContainEqual({
      name: 'stream:reaction',
      type: 'redis',
      mode: 'stream',
      channel: 'reaction',
      perEventType: true,
      channels: { reaction: 'reaction' },
      maxLen: 5000,
    });
  });

  it('refuses a Redis default or redis destinations without REDIS_URL, and names a bad switch', () => {
    expect(() => loadVkRouting(configWith({ VK_DEFAULT_DESTINATION: 'redis' }))).toThrow(
      /REDIS_URL: is required for the default VK route set \(VK_DEFAULT_DESTINATION=redis\)/,
    );
    const file = routesFile('defaultQueues: false\ndestinations:\n  bus: { type: redis }\nroutes:\n  - { event_type: command, to: bus }\n');
    expect(() => loadVkRouting(configWith({ VK_ROUTES_FILE: file }))).toThrow(/REDIS_URL: is required by the redis destinations/);
    expect(() => configWith({ VK_DEFAULT_DESTINATION: 'kafka' })).toThrow(/VK_DEFAULT_DESTINATION: must be one of amqp, redis, redis-stream/);
    expect(() => configWith({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL: must be a URL \(redis, rediss\)/);
  });

  it('reads redis destinations from the file: a fixed channel, a stream with its own cap, and names their mistakes', () => {
    const file = routesFile(`
destinations:
  audit: { type: redis, channel: herald.audit }
  log: { type: redis, mode: stream, maxLen: 1000 }
routes:
  - { event_type: [command, message_edit], to: [audit, log] }
`);
    const routing = loadVkRouting(configWith({ ...withAmqp, REDIS_URL: 'redis://127.0.0.1:6379', VK_ROUTES_FILE: file, VK_REDIS_PREFIX: 'vk:' }));
    const audit = routing.destinations.get('audit');
    const log = routing.destinations.get('log');
    expect(audit).toEqual({ name: 'audit', type: 'redis', mode: 'publish', channel: 'herald.audit', prefix: 'vk:', maxLen: 100_000 });
    expect(log).toEqual({ name: 'log', type: 'redis', mode: 'stream', channel: null, prefix: 'vk:', maxLen: 1000 });
    expect(audit?.type === 'redis' && redisKey(audit, 'message_edit')).toBe('herald.audit');
    expect(log?.type === 'redis' && redisKey(log, 'message_edit')).toBe('vk:message_edit');
    expect(routeEvent(event({ event_type: 'message_edit' }), routing, ['/'])).toEqual(['audit', 'log']);
    // GET /vk/routes: a key per event type where it follows the event type, listed; the fixed one as it is.
    expect(describeRouting(routing).destinations).toEqual(
      expect.arrayContaining([
        {
          name: 'audit',
          type: 'redis',
          mode: 'publish',
          channel: 'herald.audit',
          perEventType: false,
          channels: { command: 'herald.audit', message_edit: 'herald.audit' },
        },
        {
          name: 'log',
          type: 'redis',
          mode: 'stream',
          channel: 'vk:<event_type>',
          perEventType: true,
          channels: { command: 'vk:command', message_edit: 'vk:message_edit' },
          maxLen: 1000,
        },
      ]),
    );

    const bad = routesFile(`
destinations:
  a: { type: redis, mode: fanout }
  b: { type: redis, maxLen: 10 }
  c: { type: redis, mode: stream, maxLen: 0, channel: "two words" }
`);
    let error: unknown;
    try {
      loadVkRouting(configWith({ ...withAmqp, REDIS_URL: 'redis://127.0.0.1:6379', VK_ROUTES_FILE: bad }));
    } catch (caught) {
      error = caught;
    }
    const message = (error as Error).message;
    expect(message).toMatch(/destinations\.a\.mode: .*"publish"/);
    expect(message).toContain('destinations.b.maxLen: maxLen applies to mode: stream only');
    expect(message).toMatch(/destinations\.c\.channel: must be 1-255 characters without spaces/);
    expect(message).toMatch(/destinations\.c\.maxLen: /);
  });

  it('shows the Event schema with every field and its meaning', () => {
    const shown = describeRouting(loadVkRouting(configWith(withAmqp)));
    const fields = shown.eventSchema.map((field) => field.field);
    expect(fields).toEqual(
      expect.arrayContaining(['event_id', 'peer.cid', 'message.attachments', 'message.attachment_refs', 'message.forward_other', 'reaction.rid']),
    );
    expect(shown.eventSchema.every((field) => field.type.length > 0 && field.meaning.length > 10)).toBe(true);
  });

  it('says which file cannot be read or parsed', () => {
    expect(() => loadVkRouting(configWith({ ...withAmqp, VK_ROUTES_FILE: '/nonexistent/routes.yaml' }))).toThrow(
      /VK_ROUTES_FILE: cannot read \/nonexistent\/routes.yaml/,
    );
    const broken = routesFile('{ "routes": [', '.json');
    expect(() => loadVkRouting(configWith({ ...withAmqp, VK_ROUTES_FILE: broken }))).toThrow(/is not valid JSON/);
  });
});
