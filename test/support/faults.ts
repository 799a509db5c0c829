import type { ManagedServer } from './servers';

/**
 * Shared pieces of the fault suite: reproducible "random" moments, a server outage at such a moment, and the
 * exactly-once count every fault test prints and asserts.
 */

/** A small seeded generator (mulberry32): a failing run is repeated with the seed it printed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max] from `random`. */
export function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Stops `server` after `afterMs`, keeps it down for `downMs`, starts it again on the same port and data. */
export async function outage(server: ManagedServer, afterMs: number, downMs: number): Promise<void> {
  await pause(afterMs);
  await server.stop();
  await pause(downMs);
  await server.start();
}

export interface DeliveryCount {
  /** What was accepted (and so must arrive). */
  events: number;
  /** Accepted but never arrived. */
  lost: number;
  /** Accepted and arrived more than once. */
  duplicated: number;
  /** Arrived but was never accepted. */
  unexpected: number;
}

/**
 * Compares what was accepted with what arrived, by id: each accepted id exactly once, nothing else. Prints the counts
 * (the README quotes them) under `label`.
 */
export function countDeliveries(label: string, accepted: readonly string[], arrived: readonly string[], extra = ''): DeliveryCount {
  const want = new Set(accepted);
  const seen = new Map<string, number>();
  for (const id of arrived) seen.set(id, (seen.get(id) ?? 0) + 1);
  const count: DeliveryCount = {
    events: want.size,
    lost: [...want].filter((id) => !seen.has(id)).length,
    duplicated: [...seen].filter(([id, times]) => want.has(id) && times > 1).length,
    unexpected: [...seen.keys()].filter((id) => !want.has(id)).length,
  };
  process.stdout.write(
    `${label}: events ${count.events}, lost ${count.lost}, duplicated ${count.duplicated}, unexpected ${count.unexpected}${extra ? `, ${extra}` : ''}\n`,
  );
  return count;
}
