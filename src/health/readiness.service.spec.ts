import { Logger } from '@nestjs/common';
import { ReadinessService, STARTING } from './readiness.service';

describe('ReadinessService', () => {
  let readiness: ReadinessService;
  let warned: jest.SpyInstance;
  let logged: jest.SpyInstance;

  beforeEach(() => {
    warned = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    logged = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    readiness = new ReadinessService();
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('is degraded, not down, when only shared dependencies fail; down when a check of its own fails', async () => {
    let mongodb: Error | undefined = new Error('not connected');
    let browser: Error | undefined;
    readiness.register({ name: 'mongodb', required: false, check: () => (mongodb ? Promise.reject(mongodb) : Promise.resolve()) });
    readiness.register({ name: 'browser', required: true, check: () => (browser ? Promise.reject(browser) : Promise.resolve()) });

    expect(await readiness.check()).toMatchObject({ status: 'degraded', failed: ['mongodb'] });
    browser = new Error('Chromium is gone');
    expect(await readiness.check()).toMatchObject({ status: 'down', failed: ['browser', 'mongodb'] });
    [mongodb, browser] = [undefined, undefined];
    expect(await readiness.check()).toMatchObject({ status: 'up', failed: [] });
  });

  it('logs one line per change, naming each failing check with its reason as fields, not one per probe', async () => {
    let reason: string | undefined = 'connect ECONNREFUSED';
    readiness.register({ name: 'storage', required: false, check: () => (reason ? Promise.reject(new Error(reason)) : Promise.resolve()) });

    await readiness.check();
    await readiness.check();
    expect(warned).toHaveBeenCalledTimes(1);
    expect(warned.mock.calls[0][0]).toEqual({
      status: 'degraded',
      failed: ['storage'],
      outOfRotation: [],
      checks: { storage: 'connect ECONNREFUSED' },
    });
    expect(warned.mock.calls[0][1]).toBe('Readiness is now degraded: storage');

    reason = 'Access Denied';
    await readiness.check();
    expect(warned).toHaveBeenCalledTimes(2);
    expect(warned.mock.calls[1][0]).toMatchObject({ checks: { storage: 'Access Denied' } });

    reason = undefined;
    await readiness.check();
    expect(logged).toHaveBeenCalledWith({ status: 'up' }, 'Readiness is now up');
  });

  it('reads a check whose first run has not answered yet as starting, and a later slow one as no answer', async () => {
    jest.useFakeTimers();
    let answer: () => void = () => undefined;
    readiness.register({ name: 'browser', required: true, check: () => new Promise<void>((resolve) => (answer = resolve)) });

    const first = readiness.check();
    await jest.advanceTimersByTimeAsync(3000);
    expect((await first).outcomes[0]).toMatchObject({ name: 'browser', up: false, message: STARTING });

    answer();
    const second = readiness.check();
    answer();
    expect((await second).status).toBe('up');

    const third = readiness.check();
    await jest.advanceTimersByTimeAsync(3000);
    expect((await third).outcomes[0]).toMatchObject({ up: false, message: 'no answer within 3000 ms' });
  });

  it('is down while shutting down, whatever the checks say', async () => {
    readiness.register({ name: 'mongodb', required: false, check: () => Promise.resolve() });
    readiness.stopping();
    expect(await readiness.check()).toMatchObject({ status: 'down', failed: ['shutdown'] });
  });
});
