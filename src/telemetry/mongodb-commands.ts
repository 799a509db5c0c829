import type { Connection } from 'mongoose';
import { telemetry } from './telemetry';

const commands = telemetry.counter('herald_mongodb_commands_total', 'MongoDB commands Herald sent, by command and outcome', ['command', 'outcome']);
const commandSeconds = telemetry.histogram(
  'herald_mongodb_command_seconds',
  'Time from sending a MongoDB command to its answer, by command',
  ['command'],
  [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
);

/**
 * Counts and times every command of the connection (the driver's command monitoring, `monitorCommands: true`): what
 * each pipeline costs the database, the bound of its throughput on FerretDB v1 (see docs/adr/0004).
 */
export function watchMongoCommands(connection: Connection): Connection {
  const client = connection.getClient();
  client.on('commandSucceeded', (event) => {
    commands.inc({ command: event.commandName, outcome: 'ok' });
    commandSeconds.observe({ command: event.commandName }, event.duration / 1000);
  });
  client.on('commandFailed', (event) => {
    commands.inc({ command: event.commandName, outcome: 'failed' });
    commandSeconds.observe({ command: event.commandName }, event.duration / 1000);
  });
  return connection;
}
