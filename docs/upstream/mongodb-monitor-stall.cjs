// Reproduces the MongoDB Node driver's stuck server monitor (docs/upstream/mongodb-monitor-stall.md), with nothing
// but the `mongodb` package. Usage, from the repository root:
//   node docs/upstream/mongodb-monitor-stall.cjs                 starts FerretDB (scripts/servers.cjs) and restarts it
//   node docs/upstream/mongodb-monitor-stall.cjs mongodb://…     any server: restart it yourself when told
// It recreates the race with two calls into the driver's internals (destroy the monitor's socket, then request a
// check in the same tick: what a server closing its connections does when a check is due), then shows that no
// heartbeat is reported any more and that, once the server has restarted, every operation fails server selection.
'use strict';
const { MongoClient } = require('mongodb');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  let uri = process.argv[2];
  let ferret;
  if (!uri) {
    ferret = await require('../../scripts/servers.cjs').startFerretDb();
    uri = ferret.url;
  }
  console.log(`mongodb ${require('mongodb/package.json').version}, node ${process.version}, ${uri}`);
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
  let heartbeats = 0;
  for (const event of ['serverHeartbeatStarted', 'serverHeartbeatSucceeded', 'serverHeartbeatFailed']) client.on(event, () => (heartbeats += 1));
  await client.connect();
  await client.db('admin').command({ ping: 1 });
  const [server] = client.topology.s.servers.values();
  const monitor = server.monitor;

  // A check starts at once only when the last one ended over 500 ms ago; one that ran meanwhile reconnects: retry.
  let stuck = false;
  for (let attempt = 1; attempt <= 20 && !stuck; attempt += 1) {
    await sleep(700);
    monitor.connection?.socket.destroy();
    monitor.requestCheck();
    await sleep(1500);
    stuck = monitor.s.state === 'monitoring' && monitor.connection?.closed === true;
  }
  const socket = monitor.connection?.socket;
  console.log(
    `monitor state ${monitor.s.state}, its connection closed ${monitor.connection?.closed}, socket destroyed ${socket?.destroyed},`,
    `'drain' listeners ${socket?.listenerCount('drain')}`,
  );
  const before = heartbeats;
  await sleep(30_000);
  console.log(`heartbeat events in the next 30 s (heartbeatFrequencyMS is 10 s): ${heartbeats - before}`);

  if (ferret) {
    await ferret.stop();
    console.log('server stopped:', await ping(client));
    await ferret.start();
    console.log('server started again');
  } else {
    console.log('restart the server now; pinging every 5 s for 2 minutes');
  }
  for (let second = 0; second <= 120; second += 5) {
    // A new client beside it shows that the server answers.
    const fresh = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
    console.log(`${second} s: this client ${await ping(client)}; a new client ${await ping(fresh)}`);
    await fresh.close().catch(() => undefined);
    await sleep(5000);
  }
  await client.close().catch(() => undefined);
  await ferret?.stop();
}

async function ping(client) {
  try {
    await client.db('admin').command({ ping: 1 });
    return 'ok';
  } catch (error) {
    return `${error.name}: ${error.message}`;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
