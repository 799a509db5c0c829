import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import type { MongoClient, TopologyDescriptionChangedEvent } from 'mongodb';
import { telemetry } from '../telemetry/telemetry';

/**
 * A healthy server monitor reports a heartbeat (started, succeeded or failed) at least every heartbeatFrequencyMS
 * (10 s by default) plus one check's timeout (connectTimeoutMS, 5 s here; 15 s for a streaming check on MongoDB 4.4+).
 * Twice the longest of those without one means the monitor has stopped.
 */
export const MONITOR_STALL_MS = 30_000;
/** How often the watch looks, and how soon it tries again when connecting after a restart failed. */
const WATCH_INTERVAL_MS = 5_000;
/** Each names the server in `connectionId` (its address). */
const HEARTBEAT_EVENTS = ['serverHeartbeatStarted', 'serverHeartbeatSucceeded', 'serverHeartbeatFailed'] as const;

const restartsTotal = telemetry.counter(
  'herald_mongodb_client_restarts_total',
  'MongoDB client restarts because the driver stopped monitoring a server (see MongoMonitorWatch)',
  [],
);

/**
 * Restarts the MongoDB client when the driver has stopped monitoring a server. In the MongoDB Node driver (6.20, the
 * version Mongoose 8 pins; 7.9 reads the same) a server monitor can stop for good when the server closes its
 * connections, as at a restart: a heartbeat that starts on a connection whose socket is already destroyed (its `close`
 * not yet delivered) waits for a `drain` that never comes, the monitor stays "monitoring" and checks no more, and the
 * server stays Unknown: every operation then fails server selection until the process restarts. Restarting FerretDB
 * under load left the driver so in about one restart in ten (README, "Reliability"); the bot fault suite failed in
 * CI that way (and, by the same symptom, the Drone one): MongoDB "unreachable" for minutes while it answered.
 *
 * The watch listens to the client's public heartbeat and topology events. When a server the topology knows has
 * reported no heartbeat for MONITOR_STALL_MS, it closes the client and connects it again: a new topology with new
 * monitors. The Mongoose connection, its models and its listeners stay (they hold the client, not the topology), so
 * nothing else notices but the operations in flight, which fail as in any outage and are retried by their owners.
 */
@Injectable()
export class MongoMonitorWatch implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MongoMonitorWatch.name);
  /**
   * Each server the topology lists or whose monitor has reported, and when it last reported (or was first listed). A
   * server enters with the topology description that lists it or with its first heartbeat, and leaves when the
   * topology drops it; seeding from the connection string instead would watch names a replica set's discovery
   * replaced, whose monitors never report.
   */
  private readonly beats = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private client: MongoClient | undefined;
  private restarting = false;
  /** The last restart could not connect (MongoDB away): the next one is a retry, logged as such. */
  private retrying = false;

  constructor(@InjectConnection() private readonly connection: Connection) {}

  onApplicationBootstrap(): void {
    const client = this.connection.getClient();
    this.client = client;
    for (const event of HEARTBEAT_EVENTS) client.on(event, this.beat);
    client.on('topologyDescriptionChanged', this.servers);
    this.timer = setInterval(() => void this.look(), WATCH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Before Mongoose closes the client at shutdown, so a closed client is never taken for a stalled one. */
  onModuleDestroy(): void {
    clearInterval(this.timer);
    for (const event of HEARTBEAT_EVENTS) this.client?.off(event, this.beat);
    this.client?.off('topologyDescriptionChanged', this.servers);
  }

  /** Any of HEARTBEAT_EVENTS. */
  private readonly beat = (event: { connectionId: string }) => {
    this.beats.set(event.connectionId, Date.now());
  };

  private readonly servers = (event: TopologyDescriptionChangedEvent) => {
    const now = Date.now();
    for (const address of this.beats.keys()) if (!event.newDescription.servers.has(address)) this.beats.delete(address);
    for (const address of event.newDescription.servers.keys()) if (!this.beats.has(address)) this.beats.set(address, now);
  };

  /** Answers the servers whose monitor stalled, after restarting the client for them (none: nothing done). */
  async look(now = Date.now()): Promise<string[]> {
    const client = this.client;
    if (!client || this.restarting) return [];
    const stalled = [...this.beats].filter(([, at]) => now - at >= MONITOR_STALL_MS).map(([address]) => address);
    if (stalled.length === 0) return [];
    this.restarting = true;
    if (!this.retrying) {
      restartsTotal.inc();
      this.logger.error(
        { servers: stalled, silentForMs: Math.max(...stalled.map((address) => now - (this.beats.get(address) ?? now))) },
        'The MongoDB driver stopped monitoring a server (a driver fault after the server closed its connections); restarting the client',
      );
    }
    try {
      await client.close();
      await client.connect();
      for (const address of this.beats.keys()) this.beats.set(address, Date.now());
      this.retrying = false;
      this.logger.log('MongoDB client restarted');
    } catch (error) {
      // Not connected again (MongoDB is away now; the closed attempt reports no heartbeats): the next look tries again.
      for (const address of stalled) this.beats.set(address, Date.now() - MONITOR_STALL_MS + WATCH_INTERVAL_MS);
      if (!this.retrying)
        this.logger.warn({ err: error }, 'Restarting the MongoDB client failed (MongoDB unreachable); trying again every few seconds');
      this.retrying = true;
    } finally {
      this.restarting = false;
    }
    return stalled;
  }
}
