import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createApp, exitGracefullyOn, waitForMongoDb } from './app';
import { checkConfiguredFiles } from './app.module';
import { createStartupLogger } from './common/logging';
import { ConfigError, loadConfig, prettyLogsAsked } from './config/config';
import { errorMessage } from './common/errors';

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createStartupLogger(config);
  // Node prints its warnings (e.g. the AWS SDK's deprecation notice) as plain text on stderr; log them as JSON lines too.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn({ warning: warning.name, reason: warning.message }, `Node.js warning: ${warning.name}`, 'Node'));
  checkConfiguredFiles(config);
  await waitForMongoDb(config, logger);
  // A file named by the configuration (VK_ROUTES_FILE, …) is read while the app is built: a problem
  // there is a ConfigError too, ended below like one in the environment.
  const app = await createApp(config);
  exitGracefullyOn(app, config);
  await app.listen(config.http.port, config.http.host);
  const { address, port } = app.getHttpServer().address() as AddressInfo;
  new Logger('Herald').log({ host: address, port }, `Listening on ${address.includes(':') ? `[${address}]` : address}:${port}`);
}

/** Why start-up failed, in words that say what to change where the cause is a setting. */
function failureReason(error: unknown): string {
  const reason = errorMessage(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return `${reason} (another process listens there, perhaps another Herald: stop it or set PORT)`;
  if (code === 'EADDRNOTAVAIL') return `${reason} (HOST is not an address of this machine)`;
  return reason;
}

/**
 * The one line a failed start ends with, in the shape of every other line (pino's: numeric level 60, time, pid,
 * hostname) so a pipeline filtering on level keeps it, and written synchronously to stderr so it is out before the exit
 * (the configured logger may not be built yet, and its transport may not flush in time). With LOG_PRETTY a readable
 * line instead (its message is already multi-line for a configuration error).
 */
function writeFatal(line: { msg: string; problems?: string[]; err?: string }): void {
  if (prettyLogsAsked(process.env)) {
    process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] FATAL: ${line.msg}\n`);
    return;
  }
  const { msg, ...fields } = line;
  pino(pino.destination({ dest: 2, sync: true })).fatal(fields, msg);
}

void bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    writeFatal({ msg: error.message, problems: error.problems });
    process.exit(78); // EX_CONFIG
  }
  writeFatal({ msg: `Herald failed to start: ${failureReason(error)}`, err: String((error as Error)?.stack ?? error) });
  process.exit(1);
});
