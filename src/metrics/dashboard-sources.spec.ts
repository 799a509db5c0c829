import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config/config';
import { DashboardSources } from './dashboard-sources';
import type { PrometheusSource } from './dashboards-file';

const SOURCE: PrometheusSource = { type: 'prometheus', query: 'up', rangeSeconds: 3600, stepSeconds: 60 };
const NOW = new Date('2026-12-01T00:00:00Z');

function sourcesFor(prometheusUrl: string): DashboardSources {
  const metrics = { prometheus: { url: prometheusUrl }, fetchAllowlist: [], fetchMaxBytes: 1_000_000, fetchTimeoutMs: 5_000 };
  return new DashboardSources({ metrics } as unknown as AppConfig);
}

/** A stand-in Prometheus answering every request with `status` and `body`. */
async function serve(status: number, body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => response.writeHead(status, { 'content-type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('DashboardSources (Prometheus)', () => {
  const servers: Server[] = [];
  afterEach(() => servers.splice(0).forEach((server) => server.close()));

  it('names the URL it tried when nothing listens there', async () => {
    const { url, server } = await serve(200, '{}');
    await new Promise((resolve) => server.close(resolve));
    await expect(sourcesFor(url).series(SOURCE, 'Up', NOW)).rejects.toThrow(`Prometheus at ${url}/api/v1/query_range: ECONNREFUSED`);
  });

  it('asks whether METRICS_PROMETHEUS_URL already ends in /api/v1 when the endpoint is not there', async () => {
    const { url, server } = await serve(404, '404 page not found');
    servers.push(server);
    await expect(sourcesFor(`${url}/api/v1`).series(SOURCE, 'Up', NOW)).rejects.toThrow(
      `Prometheus at ${url}/api/v1/api/v1/query_range: HTTP 404, not a JSON answer; ` +
        "is METRICS_PROMETHEUS_URL the server's base URL, without /api/v1?",
    );
  });

  it('names a legend label no series has, and the labels the series do have', async () => {
    const matrix = {
      status: 'success',
      data: {
        resultType: 'matrix',
        result: [
          { metric: { __name__: 'up', instance: 'a:9100', job: 'node' }, values: [[1764547200, '1']] },
          { metric: { __name__: 'up', instance: 'b:9100', job: 'node' }, values: [[1764547200, '1']] },
        ],
      },
    };
    const { url, server } = await serve(200, JSON.stringify(matrix));
    servers.push(server);
    const sources = sourcesFor(url);
    await expect(sources.series({ ...SOURCE, legend: '{{instanc}} ({{job}})' }, 'Up', NOW)).rejects.toThrow(
      'legend names {{instanc}}, a label no series has; the series have __name__, instance, job',
    );
    const named = await sources.series({ ...SOURCE, legend: '{{instance}}' }, 'Up', NOW);
    expect(named.map((series) => series.name)).toEqual(['a:9100', 'b:9100']);
  });
});
