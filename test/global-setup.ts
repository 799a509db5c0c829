import { ensureInstalled, startFerret, startMinio, startRabbit, startRedis, type ManagedServer } from './support/servers';

/** Starts the real servers once for the whole run; tests get their URLs from the environment. */
export default async function globalSetup(): Promise<void> {
  ensureInstalled();
  const [ferret, minio, rabbit, redis] = await Promise.all([startFerret(), startMinio(), startRabbit(), startRedis()]);
  process.env.TEST_MONGODB_URI = ferret.url;
  process.env.TEST_S3_ENDPOINT = minio.url;
  process.env.TEST_S3_ACCESS_KEY = minio.accessKey;
  process.env.TEST_S3_SECRET_KEY = minio.secretKey;
  process.env.TEST_AMQP_URL = rabbit.url;
  process.env.TEST_REDIS_URL = redis.url;
  process.env.TEST_SYSTEM_TOKEN = 'test-system-token-0123456789abcdef';
  (globalThis as { __heraldServers?: ManagedServer[] }).__heraldServers = [ferret, minio, rabbit, redis];
}
