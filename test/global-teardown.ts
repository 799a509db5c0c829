import type { ManagedServer } from './support/servers';

export default async function globalTeardown(): Promise<void> {
  const started = (globalThis as { __heraldServers?: ManagedServer[] }).__heraldServers ?? [];
  await Promise.all(started.map((server) => server.destroy()));
}
