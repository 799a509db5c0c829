import { ConfigError, DISCORD_ID_HINT, describeFeatures, enabledFeatures, loadConfig } from './config';

const minimal = { SYSTEM_TOKEN: 'a-long-enough-system-token' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('starts with only SYSTEM_TOKEN and fills every default', () => {
    const config = loadConfig(minimal);
    expect(config.http.port).toBe(3000);
    expect(config.s3.bucket).toBe('herald');
    expect(config.browser.poolSize).toBe(2);
    expect(config.vk.apiVersion).toBe('5.199');
    expect(config.vk.commandPrefixes).toEqual(['/', '!']);
  });

  it('names a malformed variable and says what it expected', () => {
    const problems = problemsOf({ ...minimal, PORT: 'eighty' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^PORT: must be a whole number, got "eighty"/);
  });

  it('names every bad variable at once', () => {
    const problems = problemsOf({ ...minimal, BROWSER_POOL_SIZE: '0', S3_FORCE_PATH_STYLE: 'maybe', MONGODB_URI: 'postgres://x' });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual(['BROWSER_POOL_SIZE', 'MONGODB_URI', 'S3_FORCE_PATH_STYLE']);
  });

  it('reads the shards this process holds and refuses ids outside DISCORD_SHARD_COUNT', () => {
    expect(loadConfig(minimal).discord.sharding).toEqual({ count: 1, ids: 'all' });
    expect(loadConfig({ ...minimal, DISCORD_SHARD_COUNT: '4', DISCORD_SHARDS: '2-3' }).discord.sharding).toEqual({ count: 4, ids: [2, 3] });
    expect(loadConfig({ ...minimal, DISCORD_SHARD_COUNT: 'auto' }).discord.sharding).toEqual({ count: 'auto', ids: 'all' });
    expect(loadConfig({ ...minimal, DISCORD_SHARD_COUNT: '2', DISCORD_SHARDS: 'ordinal', HOSTNAME: 'herald-bot-1' }).discord.sharding.ids).toEqual([
      1,
    ]);
    expect(problemsOf({ ...minimal, DISCORD_SHARD_COUNT: '2', DISCORD_SHARDS: '0,2' })).toEqual([
      'DISCORD_SHARDS: shard ids must be below DISCORD_SHARD_COUNT (2), got 0, 2',
    ]);
    expect(problemsOf({ ...minimal, DISCORD_SHARD_COUNT: 'auto', DISCORD_SHARDS: '0' })[0]).toMatch(/^DISCORD_SHARDS: .*fixed DISCORD_SHARD_COUNT/);
    expect(problemsOf({ ...minimal, DISCORD_SHARD_COUNT: 'many' })[0]).toMatch(/^DISCORD_SHARD_COUNT: must be a number of shards/);
    expect(problemsOf({ ...minimal, DISCORD_SHARDS: 'ordinal', HOSTNAME: 'laptop' })[0]).toMatch(/^DISCORD_SHARDS: "ordinal" needs POD_ORDINAL/);
  });

  it("keeps the bot's image times absolute unless calendar is asked for, and names a wrong value", () => {
    expect(loadConfig(minimal).discord.renderTimestamps).toBe('absolute');
    expect(loadConfig({ ...minimal, DISCORD_RENDER_TIMESTAMPS: 'calendar' }).discord.renderTimestamps).toBe('calendar');
    expect(problemsOf({ ...minimal, DISCORD_RENDER_TIMESTAMPS: 'relative' })[0]).toMatch(/^DISCORD_RENDER_TIMESTAMPS: must be absolute or calendar/);
  });

  it("dates the bot's images in UTC and en-US unless a zone and a language are set, and names a wrong one", () => {
    expect(loadConfig(minimal).discord.renderLook).toEqual({ timeZone: 'UTC', locale: 'en-US' });
    expect(loadConfig({ ...minimal, DISCORD_RENDER_TIME_ZONE: 'Europe/Moscow', DISCORD_RENDER_LOCALE: 'ru' }).discord.renderLook).toEqual({
      timeZone: 'Europe/Moscow',
      locale: 'ru',
    });
    expect(loadConfig({ ...minimal, DISCORD_RENDER_TIME_ZONE: ' ' }).discord.renderLook.timeZone).toBe('UTC');
    expect(problemsOf({ ...minimal, DISCORD_RENDER_TIME_ZONE: 'MSK' })[0]).toMatch(/^DISCORD_RENDER_TIME_ZONE: must be an IANA time zone/);
    expect(problemsOf({ ...minimal, DISCORD_RENDER_LOCALE: 'english!' })[0]).toMatch(/^DISCORD_RENDER_LOCALE: must be a BCP 47 language tag/);
  });

  it("draws the bot's images 640 px wide unless DISCORD_RENDER_WIDTH says otherwise, within the renderer's 320–1200", () => {
    expect(loadConfig(minimal).discord.renderWidth).toBe(640);
    expect(loadConfig({ ...minimal, DISCORD_RENDER_WIDTH: '450' }).discord.renderWidth).toBe(450);
    expect(problemsOf({ ...minimal, DISCORD_RENDER_WIDTH: '300' })[0]).toMatch(/^DISCORD_RENDER_WIDTH: /);
    expect(problemsOf({ ...minimal, DISCORD_RENDER_WIDTH: 'wide' })[0]).toMatch(/^DISCORD_RENDER_WIDTH: /);
  });

  it("encodes PNGs with Chromium's compact default unless fast is asked for, and names a wrong value", () => {
    expect(loadConfig(minimal).browser.pngEncoding).toBe('compact');
    expect(loadConfig({ ...minimal, RENDER_PNG_ENCODING: 'fast' }).browser.pngEncoding).toBe('fast');
    expect(problemsOf({ ...minimal, RENDER_PNG_ENCODING: 'quick' })[0]).toMatch(/^RENDER_PNG_ENCODING: must be one of compact, fast/);
  });

  it('requires SYSTEM_TOKEN unless an API tokens file is set', () => {
    expect(problemsOf({})[0]).toMatch(/^SYSTEM_TOKEN: is required unless API_TOKENS_FILE is set/);
    expect(problemsOf({ SYSTEM_TOKEN: 'short' })[0]).toMatch(/^SYSTEM_TOKEN: must be at least 16 characters/);
    expect(problemsOf({ SYSTEM_TOKEN: 'herald-dev-token' })[0]).toMatch(/^SYSTEM_TOKEN: is a placeholder from Herald's docs/);
    expect(loadConfig({ API_TOKENS_FILE: '/etc/herald/tokens.yaml' }).auth).toMatchObject({
      systemToken: undefined,
      tokensFile: '/etc/herald/tokens.yaml',
    });
  });

  it('sends the backend BACKEND_TOKEN, or SYSTEM_TOKEN when it is unset', () => {
    expect(loadConfig({ ...minimal, BACKEND_URL: 'http://backend' }).backend.token).toBe(minimal.SYSTEM_TOKEN);
    expect(loadConfig({ ...minimal, BACKEND_URL: 'http://backend', BACKEND_TOKEN: 'a-separate-backend-token' }).backend.token).toBe(
      'a-separate-backend-token',
    );
    expect(problemsOf({ API_TOKENS_FILE: 't.yaml', BACKEND_URL: 'http://backend' })[0]).toMatch(
      /^BACKEND_TOKEN: is required when BACKEND_URL is set and SYSTEM_TOKEN is not/,
    );
  });

  it('reads per-scope rate limits over the defaults', () => {
    const limits = loadConfig({ ...minimal, API_RATE_LIMITS: 'notify=10/1m, render=5/30s,read=off' }).auth.rateLimits;
    expect(limits).toMatchObject({
      notify: { limit: 10, windowSeconds: 60 },
      render: { limit: 5, windowSeconds: 30 },
      read: null,
      metrics: { limit: 120, windowSeconds: 60 },
    });
    expect(Object.values(loadConfig({ ...minimal, API_RATE_LIMITS: 'off' }).auth.rateLimits)).toEqual(Array(7).fill(null));
    expect(problemsOf({ ...minimal, API_RATE_LIMITS: 'admin=1/1s' })[0]).toMatch(/^API_RATE_LIMITS: "admin=1\/1s": the scope must be one of/);
    expect(problemsOf({ ...minimal, API_RATE_LIMITS: 'notify=10 per minute' })[0]).toMatch(
      /^API_RATE_LIMITS: "notify=10 per minute": each entry must look like/,
    );
  });

  it('parses the per-repository Drone channel map and rejects a malformed entry', () => {
    const config = loadConfig({ ...minimal, DRONE_REPO_CHANNELS: 'Octo/Hello=123456789012345678, a/b=223456789012345678' });
    expect(config.drone.repoChannels).toEqual({ 'octo/hello': '123456789012345678', 'a/b': '223456789012345678' });
    expect(problemsOf({ ...minimal, DRONE_REPO_CHANNELS: 'octo=1' })[0]).toMatch(/^DRONE_REPO_CHANNELS:/);
  });

  it('takes channel, server and role ids, not names, and says where Discord shows them', () => {
    const s3 = { ...minimal, DISCORD_TOKEN: 't', S3_BUCKET: 'herald' };
    expect(loadConfig({ ...s3, DISCORD_CHANNEL_ALLOWLIST: '123456789012345678, 223456789012345678' }).discord.channelAllowlist).toEqual([
      '123456789012345678',
      '223456789012345678',
    ]);
    expect(problemsOf({ ...s3, DISCORD_CHANNEL_ALLOWLIST: '123456789012345678,general', DISCORD_COMMANDS_ROLES: 'Maintainers' })).toEqual([
      `DISCORD_CHANNEL_ALLOWLIST[1]: must be a Discord id (a snowflake of 15-21 digits), not "general"; ${DISCORD_ID_HINT}`,
      `DISCORD_COMMANDS_ROLES[0]: must be a Discord id (a snowflake of 15-21 digits), not "Maintainers"; ${DISCORD_ID_HINT}`,
    ]);
    expect(DISCORD_ID_HINT).toContain('Developer Mode');
  });

  it('reads VK_GROUP_ID in the forms VK writes it, and names the numeric id where it is a name', () => {
    const vk = (id: string) => loadConfig({ ...minimal, VK_TOKEN: 'v', VK_GROUP_ID: id }).vk.groupId;
    expect([vk('123456'), vk('club123456'), vk('public123456'), vk('-123456'), vk('https://vk.com/club123456')]).toEqual([
      123456, 123456, 123456, 123456, 123456,
    ]);
    expect(problemsOf({ ...minimal, VK_TOKEN: 'v', VK_GROUP_ID: 'toaster' })).toEqual([
      'VK_GROUP_ID: must be the community\'s numeric id, not "toaster" (club123 and -123 are read as 123); a community with a short ' +
        'address (vk.com/<name>) has one too: "id" in the answer of groups.getById with group_id=<name>',
    ]);
  });

  it('takes DISCORD_TOKEN with the "Bot " prefix some configurations write, as discord.js does', () => {
    expect(loadConfig({ ...minimal, DISCORD_TOKEN: 'Bot MTEw.abc.def' }).discord.token).toBe('MTEw.abc.def');
    expect(loadConfig({ ...minimal, DISCORD_TOKEN: 'MTEw.abc.def' }).discord.token).toBe('MTEw.abc.def');
  });

  it('refuses every secret left as a placeholder of the docs or the example manifests, long enough as it is', () => {
    const placeholders = {
      SYSTEM_TOKEN: 'replace-with-32-random-characters', // deploy/kubernetes/overlays/example/secret.example.yaml
      BACKEND_TOKEN: '<16+ characters, shared with the clients>',
      DRONE_WEBHOOK_SECRET: 'replace-me',
      VK_HTTP_SIGNING_SECRET: 'change-me-to-a-long-random-token',
      // The rest of secret.example.yaml.
      DISCORD_TOKEN: 'replace-me',
      VK_TOKEN: 'replace-me',
      VK_GROUP_ID: 'club1',
      AWS_ACCESS_KEY_ID: 'replace-me',
      AWS_SECRET_ACCESS_KEY: 'replace-me',
      AMQP_URL: 'amqp://herald:replace-me@rabbitmq:5672',
    };
    expect(problemsOf({ ...placeholders, BACKEND_URL: 'https://backend.example.com/events' }).map((problem) => problem.split(':')[0])).toEqual(
      Object.keys(placeholders).filter((name) => name !== 'VK_GROUP_ID'),
    );
    // A real secret that merely contains such a word is taken.
    expect(loadConfig({ ...minimal, DRONE_WEBHOOK_SECRET: 'k3y-replace-me-not' }).drone.webhookSecret).toBe('k3y-replace-me-not');
  });

  it("takes a replica set's seed list as MONGODB_URI, as the driver does (the Kubernetes base's own value)", () => {
    const uri = 'mongodb://herald:pw@mongo-0.mongo:27017,mongo-1.mongo:27017,mongo-2.mongo:27017/herald?replicaSet=rs0';
    expect(loadConfig({ ...minimal, MONGODB_URI: uri }).mongo.uri).toBe(uri);
  });

  it('needs both halves of the S3 key pair', () => {
    expect(problemsOf({ ...minimal, AWS_ACCESS_KEY_ID: 'x' })[0]).toMatch(/^AWS_SECRET_ACCESS_KEY:/);
  });

  it('switches features off when their credentials are missing', () => {
    expect(enabledFeatures(loadConfig(minimal))).toMatchObject({
      discordRest: false,
      discordBot: false,
      drone: false,
      notify: false,
      vk: false,
      metrics: false,
      render: false,
    });
    const all = loadConfig({ ...minimal, DISCORD_TOKEN: 't', DRONE_WEBHOOK_SECRET: 's', VK_TOKEN: 'v', VK_GROUP_ID: '1' });
    expect(enabledFeatures(all)).toMatchObject({
      discordRest: true,
      discordBot: true,
      drone: true,
      notify: true,
      vk: true,
      vkPoller: true,
      messageImages: false,
    });
    const apiOnly = loadConfig({ ...minimal, DISCORD_TOKEN: 't', VK_TOKEN: 'v', VK_GROUP_ID: '1', HERALD_ROLES: 'api' });
    expect(enabledFeatures(apiOnly)).toMatchObject({ discordBot: false, vkPoller: false, notify: true });
  });

  it('reads the render service compatibility settings', () => {
    const defaults = loadConfig(minimal);
    expect(defaults.backend.protocol).toBe('herald');
    expect(defaults.s3.publicUrl).toBeUndefined();
    expect(defaults.discord.imageKeyTemplate).toBe('discord/{guildId}/{channelId}/{messageId}.png');
    const legacy = loadConfig({
      ...minimal,
      BACKEND_URL: 'https://backend.example.com/api',
      BACKEND_PROTOCOL: 'legacy',
      S3_PUBLIC_URL: 'https://files.s3.amazonaws.com/',
      DISCORD_IMAGE_KEY_TEMPLATE: 'renders/{guildId}-{channelName}/{messageId}',
    });
    expect(legacy.backend).toEqual({ url: 'https://backend.example.com/api', protocol: 'legacy', token: minimal.SYSTEM_TOKEN });
    expect(legacy.s3.publicUrl).toBe('https://files.s3.amazonaws.com');
    expect(legacy.discord.imageKeyTemplate).toBe('renders/{guildId}-{channelName}/{messageId}');
    const bot = { S3_BUCKET: 'files', DISCORD_TOKEN: 't', DISCORD_RENDER_MESSAGES: 'true' };
    const features = describeFeatures(
      loadConfig({
        ...minimal,
        ...bot,
        BACKEND_URL: 'https://backend.example.com',
        BACKEND_PROTOCOL: 'legacy',
        S3_PUBLIC_URL: 'https://files.example.com',
      }),
    );
    const images = features.find((feature) => feature.name === 'message-images');
    expect(images?.uses).toContain('backend (BACKEND_PROTOCOL=legacy)');
  });

  it('rejects an unknown backend protocol, a legacy backend without public URLs, and a key template that cannot work', () => {
    expect(problemsOf({ ...minimal, BACKEND_PROTOCOL: 'soap' })[0]).toMatch(/^BACKEND_PROTOCOL: must be one of herald, legacy/);
    expect(problemsOf({ ...minimal, BACKEND_URL: 'https://b.example.com', BACKEND_PROTOCOL: 'legacy' })[0]).toMatch(
      /^S3_PUBLIC_URL: is required when BACKEND_PROTOCOL=legacy/,
    );
    expect(problemsOf({ ...minimal, S3_PUBLIC_URL: 'ftp://x' })[0]).toMatch(/^S3_PUBLIC_URL: must be a URL/);
    expect(problemsOf({ ...minimal, DISCORD_IMAGE_KEY_TEMPLATE: 'discord/{guildId}/{channelId}.png' })[0]).toMatch(
      /^DISCORD_IMAGE_KEY_TEMPLATE: must contain \{messageId\}/,
    );
    expect(problemsOf({ ...minimal, DISCORD_IMAGE_KEY_TEMPLATE: 'x/{guild}/{messageId}' })[0]).toMatch(
      /^DISCORD_IMAGE_KEY_TEMPLATE: unknown placeholder\(s\) \{guild\}/,
    );
  });

  it('names a URL setting that carries an inline comment or a Redis URL whose path is not a database number', () => {
    const commented = problemsOf({ ...minimal, REDIS_URL: "redis://127.0.0.1:3196/0  # the router's Redis" });
    expect(commented).toHaveLength(1);
    expect(commented[0]).toMatch(/^REDIS_URL: must be a URL without spaces; .*inline comments.*put the comment on a line of its own/);
    expect(problemsOf({ ...minimal, AMQP_URL: 'amqp://rabbit/ vhost' })[0]).toMatch(/^AMQP_URL: must be a URL without spaces$/);
    expect(problemsOf({ ...minimal, REDIS_URL: 'redis://127.0.0.1:6379/zero' })[0]).toBe(
      'REDIS_URL: must name the database by its number after the host (redis://host:6379/0), got the path "/zero"',
    );
    for (const fine of [
      'redis://127.0.0.1:6379/0',
      'rediss://user:pw@redis.example.com:6380/3',
      'redis://127.0.0.1:6379',
      'redis://127.0.0.1:6379/',
    ]) {
      expect(loadConfig({ ...minimal, REDIS_URL: fine }).redis.url).toBe(fine);
    }
    expect(loadConfig({ ...minimal, REDIS_URL: '  redis://127.0.0.1:6379/0  ' }).redis.url).toBe('redis://127.0.0.1:6379/0');
  });

  it('renders Discord messages only when asked to, and then needs S3', () => {
    const s3 = { S3_BUCKET: 'images' };
    expect(enabledFeatures(loadConfig({ ...minimal, ...s3, DISCORD_TOKEN: 't' })).messageImages).toBe(false);
    expect(enabledFeatures(loadConfig({ ...minimal, ...s3, DISCORD_TOKEN: 't', DISCORD_RENDER_MESSAGES: 'true' })).messageImages).toBe(true);
    expect(
      enabledFeatures(loadConfig({ ...minimal, ...s3, DISCORD_TOKEN: 't', DISCORD_CHANNEL_ALLOWLIST: '123456789012345678' })).messageImages,
    ).toBe(true);
    expect(problemsOf({ ...minimal, DISCORD_TOKEN: 't', DISCORD_RENDER_MESSAGES: 'true' })[0]).toMatch(/^DISCORD_RENDER_MESSAGES: .*set S3_BUCKET/);
  });

  it('turns the render and metrics endpoints on with S3, unless told otherwise', () => {
    expect(enabledFeatures(loadConfig({ ...minimal, S3_ENDPOINT: 'http://127.0.0.1:9000' }))).toMatchObject({ render: true, metrics: true });
    expect(enabledFeatures(loadConfig({ ...minimal, S3_BUCKET: 'charts', RENDER_API: 'false' }))).toMatchObject({ render: false, metrics: true });
    expect(enabledFeatures(loadConfig({ ...minimal, S3_BUCKET: 'charts', HERALD_ROLES: 'discord' }))).toMatchObject({
      render: false,
      metrics: false,
    });
    expect(problemsOf({ ...minimal, METRICS_API: 'true' })[0]).toMatch(/^METRICS_API: .*set S3_BUCKET/);
    expect(problemsOf({ ...minimal, RENDER_API: 'sometimes' })[0]).toMatch(/^RENDER_API: must be one of auto, true, false/);
  });

  it('rejects an unknown role', () => {
    expect(problemsOf({ ...minimal, HERALD_ROLES: 'api,web' })[0]).toMatch(/^HERALD_ROLES: unknown role\(s\) web/);
  });
});

describe('the features line for Drone', () => {
  it('names only the settings Drone still lacks', () => {
    const because = (env: Record<string, string>) =>
      describeFeatures(loadConfig({ ...minimal, ...env })).find((feature) => feature.name === 'drone')?.because;
    expect(because({ DISCORD_TOKEN: 'bot-token' })).toBe('set DRONE_WEBHOOK_SECRET');
    expect(because({ DRONE_WEBHOOK_SECRET: 'a-drone-secret' })).toBe('set DISCORD_TOKEN');
    expect(because({})).toBe('set DRONE_WEBHOOK_SECRET and DISCORD_TOKEN');
  });
});
