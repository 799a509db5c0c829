import { startFerret, type ManagedServer } from '../support/servers';
import { countDelivered, sendBotTraffic, startBotWorld, type BotWorld } from './discord-support';

jest.setTimeout(900_000);

const RUNS = 2;
const MESSAGES_PER_RUN = 12;
const TICK_MS = 250;

/**
 * Issue 16's fault suite, bot part: MongoDB (FerretDB) stops and starts at random moments while people write, edit
 * and delete messages. Gateway events that arrive meanwhile are recorded once the database is back; every message
 * version is then called back exactly once, in order per message.
 */
describe('the bot while MongoDB stops and starts', () => {
  let ferret: ManagedServer & { url: string };
  let world: BotWorld;

  beforeAll(async () => {
    // A database server of our own: this suite stops and starts it.
    ferret = await startFerret();
    world = await startBotWorld({ MONGODB_URI: `${ferret.url.replace(/\/+$/, '')}/botfault` });
  });

  afterAll(async () => {
    await world?.close();
    await ferret?.destroy();
  });

  it('calls back every message version exactly once after outages at random moments', async () => {
    const totals = { messages: 0, callbacks: 0, lost: 0, duplicated: 0, repeatedDeliveries: 0 };
    for (let run = 1; run <= RUNS; run++) {
      const stopAt = 2 + Math.floor(Math.random() * 8);
      const startAt = stopAt + Math.round((2000 + Math.random() * 6000) / TICK_MS);
      const expected = await sendBotTraffic(world.discord, world.backend, {
        messages: MESSAGES_PER_RUN,
        label: `fault run ${run}`,
        tickMs: TICK_MS,
        duringTick: async (tick) => {
          if (tick === stopAt) await ferret.stop();
          if (tick === startAt) await ferret.start();
        },
      });
      const counts = await countDelivered(world.backend, expected, 240_000);
      process.stdout.write(
        `bot fault run ${run}: MongoDB down from tick ${stopAt} to ${startAt} (${TICK_MS} ms ticks); ${counts.messages} messages, ` +
          `${counts.callbacks} callbacks, lost ${counts.lost}, duplicated ${counts.duplicated}, ` +
          `repeated deliveries deduped by Idempotency-Key ${counts.repeatedDeliveries}\n`,
      );
      expect(counts.wrong).toEqual([]);
      expect([counts.lost, counts.duplicated]).toEqual([0, 0]);
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += counts[key];
    }
    process.stdout.write(
      `bot fault total: ${RUNS} runs, ${totals.messages} messages, ${totals.callbacks} callbacks, lost ${totals.lost}, duplicated ${totals.duplicated}\n`,
    );
  });
});
