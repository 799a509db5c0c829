import { settleWithin } from './timeouts';

const pendingTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

describe('settleWithin', () => {
  it('returns once the work settles, fulfilled or rejected, and leaves no timer behind', async () => {
    const before = pendingTimers();
    const started = Date.now();
    await settleWithin(Promise.resolve('done'), 60_000);
    await settleWithin(Promise.reject(new Error('failed')), 60_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(pendingTimers()).toBe(before);
  });

  it('returns after the time given when the work never settles', async () => {
    const started = Date.now();
    await settleWithin(new Promise(() => undefined), 50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});
