/**
 * Waits until `work` settles (fulfilled or rejected alike) or `ms` pass, whichever comes first, and clears its timer
 * either way: a timer left pending by a bare `Promise.race` with `setTimeout` keeps the process alive for the rest of
 * its time after a shutdown hook has finished.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work.then(
        () => undefined,
        () => undefined,
      ),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
