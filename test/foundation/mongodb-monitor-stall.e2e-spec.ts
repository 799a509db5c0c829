import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { MONITOR_STALL_MS } from '../../src/health/mongodb-monitor-watch';
import { notifyClient, notifyEnv } from '../notify/notify-support';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { startFerret, type ManagedServer } from '../support/servers';

jest.setTimeout(180_000);

/** The driver's internals this test reaches into to recreate the race (mongodb 6.20; not Herald's code). */
interface DriverMonitor {
  s: { state: string };
  connection: { closed: boolean; socket: { destroy(): void } } | null;
  requestCheck(): void;
}

/**
 * The MongoDB driver's server monitor can stop for good when the server closes its connections (see
 * MongoMonitorWatch): a heartbeat starting on a connection whose socket is destroyed but whose `close` has not been
 * delivered waits forever. Restarting FerretDB under load got there about once in ten restarts; here the race is
 * recreated on purpose, then MongoDB restarts, which leaves the driver's view of the server Unknown. Herald must
 * serve again on its own, without a process restart.
 */
describe('MongoDB client after the driver stops monitoring', () => {
  let ferret: ManagedServer & { url: string };
  let discord: DiscordStandIn;
  let herald: HeraldUnderTest;

  beforeAll(async () => {
    ferret = await startFerret();
    discord = await startDiscordStandIn();
    herald = await bootHerald(
      notifyEnv(discord, { MONGODB_URI: `${ferret.url}/monitorstall`, MONGODB_TIMEOUT_MS: '1000', NOTIFY_DEFAULT_CHANNEL_ID: discord.channels.general.id }),
    );
  });

  afterAll(async () => {
    await herald?.close();
    await discord?.stop();
    await ferret?.destroy();
  });

  it('restarts the client, and notifications are accepted and sent again, within the stall bound after MongoDB is back', async () => {
    const client = notifyClient(herald);
    await client.until(await client.send({ message: 'before' }), (view) => view.state === 'sent');

    const mongo = herald.app.get<Connection>(getConnectionToken()).getClient() as unknown as { topology: { s: { servers: Map<string, { monitor: DriverMonitor }> } } };
    const [{ monitor }] = [...mongo.topology.s.servers.values()];
    // The race: the monitor's socket is destroyed and, before its `close` is delivered, a check starts. A check starts
    // at once only when the last one ended over 500 ms ago; a check that ran meanwhile reconnects, so try again.
    await eventually(async () => {
      await new Promise((resolve) => setTimeout(resolve, 700));
      monitor.connection?.socket.destroy();
      monitor.requestCheck();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return monitor.s.state === 'monitoring' && monitor.connection?.closed === true;
    }, 30_000);

    // MongoDB restarts: an operation's error while it is down marks the server Unknown (a request answered 503 shows
    // one happened), and only a monitor could mark it up again.
    await ferret.stop();
    expect((await client.post({ message: 'during the restart' })).status).toBe(503);
    await ferret.start();
    const stalledAt = Date.now();
    await eventually(
      async () => {
        const response = await client.post({ message: 'after the restart' });
        return response.status === 202 ? (response.body as { id: string }).id : undefined;
      },
      MONITOR_STALL_MS + 30_000,
      500,
    ).then((id) => client.until(id, (view) => view.state === 'sent'));
    expect(Date.now() - stalledAt).toBeLessThan(MONITOR_STALL_MS + 30_000);

    const metrics = await request(herald.url).get('/metrics');
    expect(metrics.text).toMatch(/^herald_mongodb_client_restarts_total 1$/m);
    expect(discord.messages(discord.channels.general.id).map((stored) => stored.message.content)).toEqual(['before', 'after the restart']);
  });
});
