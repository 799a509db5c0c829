import { DiscordAPIError, HTTPError, RateLimitError } from '@discordjs/rest';
import { judge } from './notification-sender';

const config = { outbox: { backoffBaseMs: 1000, backoffMaxMs: 60_000, pollIntervalMs: 1000, concurrency: 8, retentionMs: 72 * 3_600_000 } };
const request = { body: undefined, files: undefined };

function discordError(status: number, code: number, message = 'x'): DiscordAPIError {
  return new DiscordAPIError({ code, message }, code, status, 'POST', 'http://discord/api/v10/channels/1/messages', request);
}

describe('judge (what a failed Discord call means for a notification)', () => {
  it.each([
    [404, 10003, 'Unknown Channel'],
    [403, 50001, 'Missing Access'],
    [403, 50013, 'Missing Permissions'],
    [400, 50035, 'Invalid Form Body'],
  ])('gives up on %i / %i (%s)', (status, code) => {
    expect(judge(discordError(status, code), 1, config)).toEqual({ retry: false, gone: false });
  });

  it('recognises a message deleted in Discord meanwhile', () => {
    expect(judge(discordError(404, 10008), 1, config)).toEqual({ retry: false, gone: true });
  });

  it('keeps retrying after @discordjs/rest ran out of its own 5xx retries, within the configured backoff', () => {
    const outage = new HTTPError(503, 'Service Unavailable', 'POST', 'http://discord/api', request);
    for (const failures of [1, 5, 50]) {
      const verdict = judge(outage, failures, config);
      expect(verdict).toEqual({ retry: true, delayMs: expect.any(Number) });
      if (!verdict.retry) continue;
      expect(verdict.delayMs).toBeGreaterThanOrEqual(500);
      expect(verdict.delayMs).toBeLessThanOrEqual(60_000);
    }
  });

  it('retries network errors and a rejected token (fixed by a new token and a restart)', () => {
    expect(judge(new TypeError('fetch failed'), 1, config).retry).toBe(true);
    expect(judge(discordError(401, 0, '401: Unauthorized'), 1, config).retry).toBe(true);
  });

  it('waits out a rate limit that @discordjs/rest hands back instead of waiting itself', () => {
    const limited = new RateLimitError({
      timeToReset: 7000,
      limit: 5,
      method: 'POST',
      hash: 'h',
      url: 'u',
      route: '/channels/:id/messages',
      majorParameter: '1',
      global: false,
      retryAfter: 7000,
      sublimitTimeout: 0,
      scope: 'user',
    });
    expect(judge(limited, 1, config)).toEqual({ retry: true, delayMs: 7000 });
  });
});
