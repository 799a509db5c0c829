/**
 * `promise`, or `onTimeout()`'s error once `ms` pass first. The timer is cleared either way: one left pending by a bare
 * `Promise.race` with `setTimeout` keeps the process alive for the rest of its time.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Waits until `work` settles (fulfilled or rejected alike) or `ms` pass, whichever comes first; never throws. Answers
 * whether `work` settled in time.
 */
export function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  return withTimeout(settled, ms, () => new Error(`not settled within ${ms} ms`)).catch(() => false);
}
