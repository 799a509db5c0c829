import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One Prometheus registry for the process, exposed at GET /metrics. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'herald_process_' });

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function existing<T>(name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

export const telemetry = {
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets = DURATION_BUCKETS): Histogram<L> {
    return existing<Histogram<L>>(name) ?? new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
  },
  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return existing<Counter<L>>(name) ?? new Counter<L>({ name, help, labelNames, registers: [registry] });
  },
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return existing<Gauge<L>>(name) ?? new Gauge<L>({ name, help, labelNames, registers: [registry] });
  },
  /** A gauge whose values are read when /metrics is scraped (`collect` sets them), not kept up to date as work runs. */
  collected<L extends string>(name: string, help: string, labelNames: readonly L[], collect: (gauge: Gauge<L>) => Promise<void>): Gauge<L> {
    return (
      existing<Gauge<L>>(name) ??
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          await collect(this);
        },
      })
    );
  },
};
