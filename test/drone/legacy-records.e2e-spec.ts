import { createConnection, Types, type Connection } from 'mongoose';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { droneBuildEvent, newBuildScenario, type BuildScenario } from '../stand-ins/drone/drone-payloads';
import { droneDelivery, postDroneDelivery } from '../stand-ins/drone/drone-signer';
import { bootHerald } from '../support/app';

jest.setTimeout(240_000);

const SECRET = 'drone-shared-secret-for-legacy-records';

/**
 * Versions before build records were keyed by `repoId/buildId/droneHost` stored each under an ObjectId, with a unique
 * index on the three fields. A build that is running while Herald is upgraded must keep its one Discord message: the
 * deliveries after the upgrade edit it to the final state instead of posting a second one.
 */
describe('Build records an older Herald wrote', () => {
  let discord: DiscordStandIn;
  let herald: Awaited<ReturnType<typeof bootHerald>>;
  let connection: Connection;
  let channelId: string;
  const records = () => connection.db!.collection('drone_build_messages');

  beforeAll(async () => {
    discord = await startDiscordStandIn();
    channelId = discord.channels.builds.id;
    herald = await bootHerald({
      HERALD_ROLES: 'api',
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      DRONE_WEBHOOK_SECRET: SECRET,
      DRONE_CHANNEL_ID: channelId,
      BROWSER_POOL_SIZE: '1',
    });
    connection = await createConnection(herald.config.mongo.uri).asPromise();
  });

  afterAll(async () => {
    await connection?.close();
    await herald?.close();
    await discord?.stop();
  });

  const deliver = (payload: ReturnType<typeof droneBuildEvent>) =>
    postDroneDelivery(`${herald.url}/drone/webhook`, droneDelivery(payload, { secret: SECRET }));
  const messagesOf = (build: BuildScenario) =>
    discord.messages(channelId).filter((stored) => stored.message.embeds[0]?.title?.includes(`${build.slug} #${build.buildNumber}`));

  it('a build running across the upgrade keeps its one message, edited to the final state; one record, under its new id', async () => {
    const build = newBuildScenario();
    expect((await deliver(droneBuildEvent(build, { status: 'running', progress: 1 }))).body).toMatchObject({ outcome: 'shown' });
    expect(messagesOf(build)).toHaveLength(1);

    // The record as an older version stored it.
    const key = { droneHost: build.system.host, repoId: build.repoId, buildId: build.buildId };
    const [record] = await records().find(key).toArray();
    expect(record).toBeDefined();
    await records().deleteOne({ _id: record._id });
    await records().insertOne({ ...record, _id: new Types.ObjectId() });
    await records().createIndex({ droneHost: 1, repoId: 1, buildId: 1 }, { unique: true, name: 'drone_build_unique' });

    await herald.close();
    herald = await bootHerald(herald.env, { fresh: false });

    const finished = await deliver(droneBuildEvent(build, { status: 'success', durationSeconds: 60 }));
    expect(finished.body).toMatchObject({ outcome: 'shown', shownStatus: 'success' });
    const messages = messagesOf(build);
    expect(messages).toHaveLength(1);
    expect(messages[0].message.embeds[0].title).toBe(`✅ ${build.slug} #${build.buildNumber}`);

    const now = await records().find(key).toArray();
    expect(now).toHaveLength(1);
    expect(now[0]).toMatchObject({ _id: `${build.repoId}/${build.buildId}/${build.system.host}`, messageId: messages[0].message.id });
    expect(await records().countDocuments({ _id: { $type: 'objectId' } })).toBe(0);
  });
});
