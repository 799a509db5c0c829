import { randomBytes } from 'node:crypto';

// The provisioning script is plain CommonJS so `npm start` and Jest share it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const servers = require('../../scripts/servers.cjs') as {
  startFerretDb(options?: { port?: number }): Promise<ManagedServer & { url: string }>;
  startMinio(options?: { port?: number }): Promise<ManagedServer & { url: string; accessKey: string; secretKey: string }>;
  startRabbitMq(options?: { port?: number }): Promise<ManagedServer & { url: string }>;
  startRedis(options?: { port?: number }): Promise<ManagedServer & { url: string }>;
  ensureInstalled(): unknown;
  freePort(): Promise<number>;
};

/** A real server process a test owns: it can take it down and bring it back on the same port and data. */
export interface ManagedServer {
  port: number;
  start(): Promise<ManagedServer>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export const startFerret = () => servers.startFerretDb();
export const startMinio = () => servers.startMinio();
export const startRabbit = () => servers.startRabbitMq();
export const startRedis = () => servers.startRedis();
export const freePort = () => servers.freePort();
export const ensureInstalled = () => servers.ensureInstalled();

/** A database of its own for each test app, on the suite's shared FerretDB. */
export function testMongoUri(dbName = `t${randomBytes(5).toString('hex')}`): string {
  const base = requireEnv('TEST_MONGODB_URI');
  return `${base.replace(/\/+$/, '')}/${dbName}`;
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (its globalSetup starts the servers)`);
  return value;
}
