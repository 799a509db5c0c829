import { randomBytes } from 'node:crypto';
import { BackendReceiver } from '../stand-ins/backend/backend-receiver';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { baseTestEnv, eventually } from '../support/app';
import { startHeraldProcess, type HeraldProcess } from '../support/herald-process';
import { freePort, requireEnv, testMongoUri } from '../support/servers';
import { botEnv } from './discord-support';

jest.setTimeout(240_000);

// Discord routes a guild's events to shard (guild_id >> 22) % num_shards: with two shards the stand-in's first
// guild (1200000000000000001) is shard 1's and the second (1300000000000000001) shard 0's.
const SHARD_0_GUILD = '1300000000000000001';

interface ShardProcess {
  shard: number;
  port: number;
  env: Record<string, string>;
  process: HeraldProcess;
}

describe('a bot sharded over two Herald processes', () => {
  let discord: DiscordStandIn;
  let backend: BackendReceiver;
  const shards: ShardProcess[] = [];

  async function startShard(shard: number, env?: Record<string, string>): Promise<ShardProcess> {
    const port = await freePort();
    const fullEnv = env ?? {
      ...baseTestEnv(),
      ...botEnv(discord, backend),
      // Each process its own database and bucket, so what each one rendered can be told apart.
      MONGODB_URI: testMongoUri(),
      S3_BUCKET: `herald-${randomBytes(5).toString('hex')}`,
      DISCORD_RENDER_MESSAGES: 'true',
      HERALD_ROLES: 'discord',
      DISCORD_SHARD_COUNT: '2',
      DISCORD_SHARDS: String(shard),
      LOG_LEVEL: 'info',
    };
    const started: ShardProcess = { shard, port, env: fullEnv, process: startHeraldProcess({ ...fullEnv, PORT: String(port), HOST: '127.0.0.1' }) };
    await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null);
        const body = (await response?.json().catch(() => null)) as { info?: { discord?: { degraded?: boolean } } } | null;
        return response?.status === 200 && body?.info?.discord && !body.info.discord.degraded;
      },
      120_000,
      250,
    ).catch((error: unknown) => {
      throw new Error(`shard ${shard} did not become ready: ${String(error)}\n${started.process.output().slice(-4000)}`);
    });
    return started;
  }

  function newMessagesSeenBy(shard: ShardProcess): string[] {
    return shard.process
      .lines()
      .filter((line) => line.msg === 'New message')
      .map((line) => String(line.messageId));
  }

  async function bucketKeys(shard: ShardProcess): Promise<string[]> {
    const { S3Client, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({
      endpoint: shard.env.S3_ENDPOINT,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: shard.env.AWS_ACCESS_KEY_ID, secretAccessKey: shard.env.AWS_SECRET_ACCESS_KEY },
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: shard.env.S3_BUCKET }));
    s3.destroy();
    return (listed.Contents ?? []).map((object) => object.Key ?? '');
  }

  beforeAll(async () => {
    discord = await startDiscordStandIn({
      shards: 2,
      maxConcurrency: 1,
      otherGuilds: [
        { id: SHARD_0_GUILD, name: 'Second Guild', channels: [{ key: 'general', name: 'general' }], users: [{ key: 'dora', username: 'dora' }] },
      ],
    });
    backend = await BackendReceiver.start(requireEnv('TEST_SYSTEM_TOKEN'));
    shards.push(await startShard(0));
    shards.push(await startShard(1));
  });

  afterAll(async () => {
    await Promise.all(shards.map((shard) => shard.process.stop()));
    await backend?.stop();
    await discord?.stop();
  });

  it('identifies each shard with [id, 2] and each process renders only the messages of its own guilds', async () => {
    expect(discord.connectedShards.map(([id, count]) => `${id}/${count}`).sort()).toEqual(['0/2', '1/2']);
    const second = discord.otherGuilds[0];
    const forShard0 = discord.messageCreate({ channelId: second.channels.general.id, author: second.users.dora, content: 'hello shard 0' });
    const forShard1 = discord.messageCreate({ channelId: discord.channels.general.id, author: discord.users.alice, content: 'hello shard 1' });
    await backend.waitFor({ messageId: forShard0.id, event: 'created' });
    await backend.waitFor({ messageId: forShard1.id, event: 'created' });

    const [shard0, shard1] = shards as [ShardProcess, ShardProcess];
    expect(newMessagesSeenBy(shard0)).toEqual([forShard0.id]);
    expect(newMessagesSeenBy(shard1)).toEqual([forShard1.id]);
    const [keys0, keys1] = [await bucketKeys(shard0), await bucketKeys(shard1)];
    expect(keys0.filter((key) => key.includes(forShard0.id))).toHaveLength(1);
    expect(keys0.some((key) => key.includes(forShard1.id))).toBe(false);
    expect(keys1.filter((key) => key.includes(forShard1.id))).toHaveLength(1);
    expect(keys1.some((key) => key.includes(forShard0.id))).toBe(false);
  });

  it('restarting one shard process leaves the other connected and rendering', async () => {
    const [shard0, shard1] = shards as [ShardProcess, ShardProcess];
    const shard0Identifies = discord.identifiedShards.filter(([id]) => id === 0).length;
    const resumes = discord.resumeCount;

    const stopped = await shard1.process.stop();
    expect(stopped.code).toBe(0);
    expect(discord.connectedShards.map(([id]) => id)).toEqual([0]);
    const second = discord.otherGuilds[0];
    const whileDown = discord.messageCreate({ channelId: second.channels.general.id, author: second.users.dora, content: 'shard 1 is restarting' });
    await backend.waitFor({ messageId: whileDown.id, event: 'created' });

    shards[1] = await startShard(1, shard1.env);
    const afterRestart = discord.messageCreate({ channelId: discord.channels.general.id, author: discord.users.bob, content: 'shard 1 is back' });
    await backend.waitFor({ messageId: afterRestart.id, event: 'created' });

    // Shard 0 never lost its session: no new IDENTIFY, no RESUME, and it saw only its own guild's messages.
    expect(discord.identifiedShards.filter(([id]) => id === 0)).toHaveLength(shard0Identifies);
    expect(discord.resumeCount).toBe(resumes);
    expect(newMessagesSeenBy(shard0)).toEqual(expect.arrayContaining([whileDown.id]));
    expect(newMessagesSeenBy(shard0)).not.toContain(afterRestart.id);
    expect(newMessagesSeenBy(shards[1])).toContain(afterRestart.id);
  });
});
