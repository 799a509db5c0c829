/** One sample line of the Prometheus text format: `name{label="value",…} value`, or `name value` without labels. */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * A metric as a Herald process's GET /metrics shows it: the sum of its samples whose labels include every one given
 * (none given: all its samples, with or without labels). 0 when it has no sample yet, as prom-client shows a labelled
 * counter before its first increment; a name Herald does not register at all (a typo, a renamed metric) throws, so
 * an assertion that a count did not change cannot pass by reading nothing.
 */
export async function metric(url: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${url}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const text = await response.text();
  // `# TYPE` names the family: a histogram's `_count`, `_sum` and `_bucket` samples belong to it.
  const family = name.replace(/_(count|sum|bucket)$/, '');
  if (!new RegExp(`^# TYPE (${name}|${family}) `, 'm').test(text)) throw new Error(`GET /metrics has no metric ${name}`);
  let sum = 0;
  for (const line of text.split('\n')) {
    const sample = SAMPLE.exec(line);
    if (!sample || sample[1] !== name) continue;
    const has = Object.fromEntries([...(sample[2] ?? '').matchAll(LABEL)].map(([, key, value]) => [key, value]));
    if (Object.entries(labels).every(([key, value]) => has[key] === value)) sum += Number(sample[3]);
  }
  return sum;
}
