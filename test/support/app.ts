import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/app';
import { AppConfig, loadConfig } from '../../src/config/config';
import { requireEnv, testMongoUri } from './servers';

export interface HeraldUnderTest {
  app: NestExpressApplication;
  url: string;
  config: AppConfig;
  /** The environment it booted with: boot again with it to "restart" onto the same database and bucket. */
  env: Record<string, string>;
  token: string;
  close(): Promise<void>;
}

/** The environment of a test instance: real FerretDB and S3 (versitygw) from globalSetup, a database and bucket of its own. */
export function baseTestEnv(): Record<string, string> {
  return {
    MONGODB_URI: testMongoUri(),
    S3_ENDPOINT: requireEnv('TEST_S3_ENDPOINT'),
    S3_REGION: 'us-east-1',
    S3_BUCKET: `herald-${randomBytes(5).toString('hex')}`,
    S3_FORCE_PATH_STYLE: 'true',
    S3_CREATE_BUCKET: 'true',
    AWS_ACCESS_KEY_ID: requireEnv('TEST_S3_ACCESS_KEY'),
    AWS_SECRET_ACCESS_KEY: requireEnv('TEST_S3_SECRET_KEY'),
    SYSTEM_TOKEN: requireEnv('TEST_SYSTEM_TOKEN'),
    // Rate limits are proven by test/auth; elsewhere tests poll and burst as fast as they like.
    API_RATE_LIMITS: 'off',
    BROWSER_POOL_SIZE: '2',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    SHUTDOWN_TIMEOUT_MS: '4000',
  };
}

/** Boots the real AppModule on a free port. Pass the `env` of an earlier instance to restart onto its state. */
export async function bootHerald(env: Record<string, string> = {}, options: { fresh?: boolean } = {}): Promise<HeraldUnderTest> {
  const fullEnv = options.fresh === false ? env : { ...baseTestEnv(), ...env };
  const config = loadConfig(fullEnv);
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    config,
    env: fullEnv,
    token: config.auth.systemToken ?? '',
    close: () => app.close(),
  };
}

/** Polls until `probe` returns a truthy value (or throws its last error after `timeoutMs`). */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 20000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw lastError instanceof Error ? lastError : new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
