import { BackendReceiver } from '../stand-ins/backend/backend-receiver';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { metric } from '../support/metrics';
import { ensureBuilt, spawnHerald, type HeraldReplica } from '../support/process';
import { requireEnv } from '../support/servers';
import { botEnv, countDelivered, sendBotTraffic } from './discord-support';

jest.setTimeout(420_000);

/** Renders (and deletes) one Herald process did, from its /metrics. */
async function imageWork(replica: HeraldReplica): Promise<{ renders: number; deletes: number }> {
  const count = (work: string) => metric(replica.url, 'herald_discord_image_work_total', { work, outcome: 'ok' });
  return { renders: await count('render'), deletes: await count('delete') };
}

/**
 * Two Herald processes on one FerretDB and bucket, both connected as the bot and both receiving every event (a
 * misconfigured or rolling deploy): each message version is rendered once and its callback sent once.
 */
describe('the bot in two Herald processes that both receive every event', () => {
  let discord: DiscordStandIn;
  let backend: BackendReceiver;
  const replicas: HeraldReplica[] = [];

  beforeAll(async () => {
    ensureBuilt();
    discord = await startDiscordStandIn();
    backend = await BackendReceiver.start(requireEnv('TEST_SYSTEM_TOKEN'));
    replicas.push(await spawnHerald(botEnv(discord, backend)));
    replicas.push(await spawnHerald(replicas[0].env, { fresh: false }));
    await discord.waitFor(() => discord.connectedSessions >= 2, { timeoutMs: 120_000, what: 'both processes connected as the bot' });
  });

  afterAll(async () => {
    for (const replica of replicas) expect(await replica.stop()).toBe(0);
    await backend?.stop();
    await discord?.stop();
  });

  it('renders each message version and calls the backend back exactly once', async () => {
    const expected = await sendBotTraffic(discord, backend, { messages: 24, label: 'two processes' });
    const counts = await countDelivered(backend, expected);
    const work = await Promise.all(replicas.map(imageWork));
    const versions = [...expected.values()].reduce((sum, events) => sum + events.filter((event) => event !== 'deleted').length, 0);
    const deletes = [...expected.values()].filter((events) => events.includes('deleted')).length;
    process.stdout.write(
      `bot in two processes: ${counts.messages} messages, ${counts.callbacks} callbacks, lost ${counts.lost}, duplicated ${counts.duplicated}, ` +
        `renders per process ${work.map((one) => one.renders).join('+')} for ${versions} versions\n`,
    );
    expect(counts.wrong).toEqual([]);
    expect([counts.lost, counts.duplicated, counts.repeatedDeliveries]).toEqual([0, 0, 0]);
    expect(work.reduce((sum, one) => sum + one.renders, 0)).toBe(versions);
    expect(work.reduce((sum, one) => sum + one.deletes, 0)).toBe(deletes);
  });
});
