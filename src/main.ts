import 'reflect-metadata';
import { createApp, exitGracefullyOn } from './app';
import { ConfigError, loadConfig } from './config/config';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: error.message, problems: error.problems })}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const app = await createApp(config).catch((error: unknown) => {
    // A file named by the configuration (API_TOKENS_FILE) is read while the app is built.
    if (error instanceof ConfigError) {
      process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: error.message, problems: error.problems })}\n`);
      process.exit(78);
    }
    throw error;
  });
  exitGracefullyOn(app, config);
  await app.listen(config.http.port, config.http.host);
}

void bootstrap().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'Herald failed to start', err: String((error as Error)?.stack ?? error) })}\n`);
  process.exit(1);
});
