import { DiscordAPIError, HTTPError } from '@discordjs/rest';
import { describeDiscordError, TOKEN_REFUSED } from './discord-rest';

const request = { body: undefined, files: undefined };
const refusal = (status: number, code: number, message: string) =>
  new DiscordAPIError({ code, message }, code, status, 'POST', 'http://discord/api/v10/channels/1/messages', request);

describe('describeDiscordError (the reason a record, a log line or a 422 carries)', () => {
  it("says what to do about the refusals a new setup meets, after Discord's own words", () => {
    expect(describeDiscordError(refusal(403, 50013, 'Missing Permissions'))).toBe(
      'Discord 403 (code 50013): Missing Permissions (the bot lacks a permission in this channel: it posts with Send Messages and Embed Links)',
    );
    expect(describeDiscordError(refusal(401, 0, '401: Unauthorized'))).toBe(`Discord 401 (code 0): 401: Unauthorized (${TOKEN_REFUSED})`);
    expect(TOKEN_REFUSED).toContain('Bot → Reset Token');
  });

  it('says the same of every later request, which @discordjs/rest refuses itself once a 401 made it drop the token', () => {
    expect(describeDiscordError(new Error('Expected token to be set for this request, but none was present'))).toBe(TOKEN_REFUSED);
  });

  it("leaves other refusals and failures in Discord's words", () => {
    expect(describeDiscordError(refusal(400, 50035, 'Invalid Form Body'))).toBe('Discord 400 (code 50035): Invalid Form Body');
    expect(describeDiscordError(new HTTPError(503, 'Service Unavailable', 'POST', 'http://discord/api', request))).toBe(
      'Discord HTTP 503: Service Unavailable',
    );
  });
});
