import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import type { Connection } from 'mongoose';
import { MONITOR_STALL_MS, MongoMonitorWatch } from './mongodb-monitor-watch';

/** The client's side the watch uses: its events, close and connect (the real driver is in test/foundation/mongodb-outage). */
class ClientStandIn extends EventEmitter {
  closes = 0;
  connects = 0;
  connectFails = false;
  close(): Promise<void> {
    this.closes += 1;
    return Promise.resolve();
  }
  connect(): Promise<void> {
    this.connects += 1;
    return this.connectFails ? Promise.reject(new Error('connect ECONNREFUSED')) : Promise.resolve();
  }
}

describe('MongoMonitorWatch', () => {
  let client: ClientStandIn;
  let watch: MongoMonitorWatch;
  /** What an operator reads in the log, by level (kept out of the test run's output). */
  let logged: Record<'error' | 'warn' | 'log', jest.SpyInstance>;

  beforeEach(() => {
    logged = {
      error: jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined),
      warn: jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined),
      log: jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined),
    };
    client = new ClientStandIn();
    watch = new MongoMonitorWatch({ getClient: () => client } as unknown as Connection);
    watch.onApplicationBootstrap();
  });

  afterEach(() => {
    watch.onModuleDestroy();
    jest.restoreAllMocks();
  });

  it('leaves a client alone while each server it heard from keeps reporting heartbeats, failed ones too', async () => {
    client.emit('serverHeartbeatSucceeded', { connectionId: 'db:27017' });
    const start = Date.now();
    client.emit('serverHeartbeatFailed', { connectionId: 'db:27017' });
    expect(await watch.look(start + MONITOR_STALL_MS - 1)).toEqual([]);
    expect([client.closes, client.connects]).toEqual([0, 0]);
  });

  it('restarts the client once a server has reported nothing for the stall bound, and not again while it reports', async () => {
    client.emit('serverHeartbeatStarted', { connectionId: 'db:27017' });
    expect(await watch.look(Date.now() + MONITOR_STALL_MS)).toEqual(['db:27017']);
    expect([client.closes, client.connects]).toEqual([1, 1]);
    // One error that says what happened and to which server, then that the client is back.
    expect(logged.error).toHaveBeenCalledTimes(1);
    expect(logged.error.mock.calls[0][0]).toMatchObject({ servers: ['db:27017'] });
    expect(logged.error.mock.calls[0][1]).toMatch(/stopped monitoring a server.*restarting the client/);
    expect(logged.log).toHaveBeenCalledWith('MongoDB client restarted');
    // Restarted: the clock starts again for it.
    expect(await watch.look(Date.now() + 1000)).toEqual([]);
    expect(client.connects).toBe(1);
  });

  it('tries again within seconds when connecting after a restart fails, until it connects', async () => {
    client.emit('serverHeartbeatStarted', { connectionId: 'db:27017' });
    client.connectFails = true;
    expect(await watch.look(Date.now() + MONITOR_STALL_MS)).toEqual(['db:27017']);
    expect(await watch.look(Date.now() + 1000)).toEqual([]);
    expect(await watch.look(Date.now() + 6000)).toEqual(['db:27017']);
    client.connectFails = false;
    expect(await watch.look(Date.now() + 12_000)).toEqual(['db:27017']);
    expect(client.connects).toBe(3);
    expect(await watch.look(Date.now() + 18_000)).toEqual([]);
    // Three attempts, one outage: logged once as an error and once as a failed connect, not at every retry.
    expect(logged.error).toHaveBeenCalledTimes(1);
    expect(logged.warn).toHaveBeenCalledTimes(1);
    expect(logged.warn.mock.calls[0][1]).toMatch(/MongoDB unreachable/);
    expect(logged.log).toHaveBeenCalledWith('MongoDB client restarted');
  });

  it('forgets a server the topology dropped, and watches one it added from then on', async () => {
    client.emit('serverHeartbeatStarted', { connectionId: 'old:27017' });
    client.emit('topologyDescriptionChanged', { newDescription: { servers: new Map([['new:27017', {}]]) } });
    expect(await watch.look(Date.now() + MONITOR_STALL_MS)).toEqual(['new:27017']);
  });
});
