import { randomBytes } from 'node:crypto';

// The provisioning script is plain CommonJS so `npm start` and Jest share it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const servers = require('../../scripts/servers.cjs') as {
  startFerretDb(options?: { port?: number }): Promise<ManagedServer & { url: string }>;
  startS3(options?: { port?: number }): Promise<ManagedServer & { url: string; accessKey: string; secretKey: string }>;
  startRabbitMq(options?: { port?: number }): Promise<ManagedServer & { url: string }>;
  startRedis(options?: { port?: number }): Promise<ManagedServer & { url: string }>;
  startPrometheus(options: { targets: string[]; scrapeIntervalSeconds?: number; port?: number }): Promise<ManagedServer & { url: string }>;
  ensureInstalled(): unknown;
  ensureSchemathesis(): string;
  freePort(): Promise<number>;
  tcpOpen(port: number): Promise<boolean>;
  alive(pid: number): boolean;
};

/** A real server process a test owns: it can take it down and bring it back on the same port and data. */
export interface ManagedServer {
  port: number;
  start(): Promise<ManagedServer>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

export const startFerret = () => servers.startFerretDb();
export const startS3 = () => servers.startS3();
export const startRabbit = () => servers.startRabbitMq();
export const startRedis = () => servers.startRedis();
/** A real Prometheus scraping `targets` (host:port serving /metrics); each test that needs one starts its own. */
export const startPrometheus = (targets: string[], port?: number) => servers.startPrometheus({ targets, scrapeIntervalSeconds: 1, port });
export const freePort = () => servers.freePort();
/** Whether something accepts connections on this loopback port. */
export const tcpOpen = (port: number) => servers.tcpOpen(port);
/** Whether a process with this pid exists (a signal 0 reaches it). */
export const processAlive = (pid: number) => servers.alive(pid);
export const ensureInstalled = () => servers.ensureInstalled();
/** The `st` command of schemathesis, installed into a cached virtual environment on first use. */
export const ensureSchemathesis = () => servers.ensureSchemathesis();

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
