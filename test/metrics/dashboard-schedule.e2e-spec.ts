import type { DashboardCallback } from '../../src/backend/dashboard-callback';
import { BackendReceiver } from '../stand-ins/backend/backend-receiver';
import { baseTestEnv, eventually } from '../support/app';
import { metric } from '../support/metrics';
import { spawnHerald, type HeraldReplica } from '../support/process';
import { startJsonSource, writeDashboardsFile, type TestServer } from './dashboard-support';

jest.setTimeout(300_000);

/** Renders of the dashboard this replica ran on schedule (its Prometheus counter). */
function scheduledRenders(replica: HeraldReplica): Promise<number> {
  return metric(replica.url, 'herald_metrics_dashboard_render_seconds_count', { dashboard: 'ticking', trigger: 'schedule' });
}

describe('a dashboard schedule with two replicas', () => {
  let json: TestServer;
  let backend: BackendReceiver;
  const replicas: HeraldReplica[] = [];

  beforeAll(async () => {
    json = await startJsonSource({ '/queue': { current: 3 } });
    backend = await BackendReceiver.start(process.env.TEST_SYSTEM_TOKEN!);
    const file = writeDashboardsFile({
      dashboards: [
        {
          name: 'ticking',
          // Every 4 seconds (six fields: seconds first).
          schedule: '*/4 * * * * *',
          panels: [{ id: 'queue', title: 'Queue', kind: 'stat', source: { type: 'json', url: `${json.url}/queue`, path: '$.current' } }],
        },
      ],
    });
    const env = {
      ...baseTestEnv(),
      METRICS_DASHBOARDS_FILE: file,
      METRICS_FETCH_ALLOWLIST: json.host,
      BACKEND_URL: backend.url,
      OUTBOX_POLL_INTERVAL_MS: '200',
      MONGODB_TIMEOUT_MS: '20000',
      RENDER_TIMEOUT_MS: '60000',
    };
    // Two processes on one database and bucket, as two pods run.
    replicas.push(await spawnHerald(env, { fresh: false }));
    replicas.push(await spawnHerald(env, { fresh: false }));
  });

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await backend?.stop();
    await json?.close();
  });

  it('renders each tick once, on one replica, and tells the backend once per tick', async () => {
    const ticks = () =>
      backend.accepted.map((received) => received.body as unknown as DashboardCallback).filter((body) => body.trigger === 'schedule');
    // Settles when every render the two replicas counted is one tick the backend heard of, and no tick was told twice;
    // a tick rendered by both replicas would leave more renders than ticks for good.
    const settled = await eventually(
      async () => {
        const heard = ticks();
        const distinct = new Set(heard.map((callback) => callback.idempotencyKey));
        const renders = (await Promise.all(replicas.map(scheduledRenders))).reduce((sum, count) => sum + count, 0);
        return distinct.size >= 3 && renders === distinct.size && heard.length === distinct.size ? { renders, ticks: distinct } : false;
      },
      180_000,
      250,
    );
    // Consecutive ticks of the schedule, 4 s apart.
    const times = [...settled.ticks].map((key) => Date.parse(key.split(':').slice(2).join(':'))).sort((a, b) => a - b);
    expect(times.every((time) => time % 4000 === 0)).toBe(true);
    expect(ticks().every((callback) => callback.panels.queue.key === 'metrics/ticking/queue.png')).toBe(true);
  });
});
