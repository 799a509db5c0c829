import { createConnection, Types, type Connection } from 'mongoose';
import { startBotWorld, type BotWorld } from './discord-support';

jest.setTimeout(240_000);

/**
 * Versions before message records were keyed by message id stored each under an ObjectId, with a unique index on
 * `messageId`. An upgrade must keep every message's history: an edit after it is an `updated` at the next revision
 * (not a second `created`), a delete removes the image it made, and each message keeps one record.
 */
describe('Message records an older Herald wrote', () => {
  let world: BotWorld;
  let connection: Connection;
  const records = () => connection.db!.collection('discord_message_images');

  beforeAll(async () => {
    world = await startBotWorld();
    connection = await createConnection(world.herald.config.mongo.uri).asPromise();
  });

  afterAll(async () => {
    await connection?.close();
    await world?.close();
  });

  /** Rewrites each message's record the way older versions stored it. */
  async function asAnOlderVersionStoredThem(messageIds: string[]): Promise<void> {
    for (const messageId of messageIds) {
      const [record] = await records().find({ messageId }).toArray();
      expect(record).toBeDefined();
      await records().deleteOne({ _id: record._id });
      await records().insertOne({ ...record, _id: new Types.ObjectId() });
    }
    await records().createIndex({ messageId: 1 }, { unique: true });
  }

  it('after the upgrade an edit says updated at the next revision and a delete removes the image; one record each', async () => {
    const { discord, backend } = world;
    const general = discord.channels.general;
    const edited = await world.post({ author: discord.users.carol, content: 'before the upgrade' });
    const deleted = await world.post({ author: discord.users.bob, content: 'to be deleted after the upgrade' });
    const keyOf = (id: string) => `discord/${discord.guild.id}/${general.id}/${id}.png`;
    await asAnOlderVersionStoredThem([edited.id, deleted.id]);

    await world.restart();
    discord.messageUpdate(general.id, edited.id, { content: 'after the upgrade', editedAt: new Date() });
    discord.messageDelete(general.id, deleted.id);

    const updated = await backend.waitFor({ messageId: edited.id, event: 'updated' });
    expect(updated).toMatchObject({ idempotencyKey: `discord:${edited.id}:updated:2`, urn: edited.urn });
    expect(backend.callbacks({ messageId: edited.id }).map((callback) => callback.event)).toEqual(['created', 'updated']);
    const gone = await backend.waitFor({ messageId: deleted.id, event: 'deleted' });
    expect(gone.urn).toBe(deleted.urn);
    expect(await world.storage().exists(keyOf(deleted.id))).toBe(false);

    for (const id of [edited.id, deleted.id]) {
      expect(await records().countDocuments({ messageId: id })).toBe(1);
    }
    expect(await records().countDocuments({ _id: { $type: 'objectId' } })).toBe(0);
  });
});
