// What the dashboard tests serve Herald and Prometheus: a small exporter with fixed gauges (scraped by a real
// Prometheus) and a JSON endpoint whose answers a test can change or break.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';

export interface TestServer {
  host: string;
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Prometheus text exposition of fixed values, so panels drawn from them are the same on every run. */
export const EXPORTED = [
  '# HELP shop_request_latency_ms Request latency by server',
  '# TYPE shop_request_latency_ms gauge',
  'shop_request_latency_ms{server="api-1"} 182',
  'shop_request_latency_ms{server="api-2"} 245',
  'shop_request_latency_ms{server="api-3"} 311',
  '# HELP shop_queue_depth Jobs waiting',
  '# TYPE shop_queue_depth gauge',
  'shop_queue_depth 42',
].join('\n');

export async function startExporter(): Promise<TestServer> {
  return listen(
    createServer((request, response) => {
      if (request.url !== '/metrics') return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${EXPORTED}\n`);
    }),
  );
}

/** A JSON endpoint: `documents[path]` is answered as JSON; a missing path is a 500. */
export async function startJsonSource(documents: Record<string, unknown>): Promise<TestServer & { documents: Record<string, unknown> }> {
  const server = await listen(
    createServer((request, response) => {
      const document = documents[request.url ?? ''];
      if (document === undefined) return void response.writeHead(500, { 'content-type': 'text/plain' }).end('broken on purpose');
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
    }),
  );
  return { ...server, documents };
}

/** Writes a dashboards file (YAML) into a temporary directory and answers its path. */
export function writeDashboardsFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'herald-dashboards-')), 'dashboards.yaml');
  writeFileSync(file, dump(content));
  return file;
}
