import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type AppConfig } from '../config/config';
import type { VkEvent } from './vk-event';
import { describeRouting, loadVkRouting, routeEvent, VkRoutesError } from './vk-routes';

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
    message: { cmid: 1, text: 'hello', reply: null, forward: [], attachments: [] },
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
    const ban = event({ event_type: 'command', message: { cmid: 1, text: '!ban @x', reply: null, forward: [], attachments: [] } });

    expect(routeEvent(ban, routing, ['/', '!'])).toEqual(['queue:command', 'ban-queue', 'mod-hook']);
    expect(routeEvent({ ...ban, peer: { bpid: 2000000002, cid: 2, name: null } }, routing, ['/', '!'])).toEqual(['queue:command']);
    expect(
      routeEvent(event({ event_type: 'command', message: { cmid: 1, text: '/warn', reply: null, forward: [], attachments: [] } }), routing, ['/']),
    ).toEqual(['queue:command']);
    expect(routeEvent(event({ event_type: 'button', message: undefined }), routing, ['/'])).toEqual(['queue:button', 'mod-hook']);
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

  it('says which file cannot be read or parsed', () => {
    expect(() => loadVkRouting(configWith({ ...withAmqp, VK_ROUTES_FILE: '/nonexistent/routes.yaml' }))).toThrow(
      /VK_ROUTES_FILE: cannot read \/nonexistent\/routes.yaml/,
    );
    const broken = routesFile('{ "routes": [', '.json');
    expect(() => loadVkRouting(configWith({ ...withAmqp, VK_ROUTES_FILE: broken }))).toThrow(/is not valid JSON/);
  });
});
