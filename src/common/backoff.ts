/**
 * Exponential backoff with full jitter (AWS architecture blog's "full jitter"): spreads retries of many
 * workers so a dependency that comes back is not hit by all of them at the same instant.
 * `attempt` counts from 1 (the first retry). The delay is drawn uniformly from 0 to min(maxMs, baseMs × 2^(attempt−1))
 * and raised to baseMs / 2 when below it: the first retry waits 0.5–1 × baseMs (half base in half the draws), never
 * zero, and no retry waits more than maxMs (or baseMs / 2, if that is larger).
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(baseMs / 2, Math.round(random() * ceiling));
}
