import request from 'supertest';
import { MAX_FIELD_ERRORS } from '../../src/common/validation';
import { startDiscordStandIn, type DiscordStandIn } from '../stand-ins/discord';
import { bootHerald, type HeraldUnderTest } from '../support/app';

jest.setTimeout(180_000);

/** Bad inputs get a 4xx that says what is wrong, whatever endpoint they reach, and never a 5xx. */
describe('bad input at the door', () => {
  let discord: DiscordStandIn;
  let herald: HeraldUnderTest;
  let auth: { Authorization: string };

  beforeAll(async () => {
    discord = await startDiscordStandIn();
    herald = await bootHerald({
      HERALD_ROLES: 'api',
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.apiUrl,
      NOTIFY_DEFAULT_CHANNEL_ID: discord.channels.general.id,
      DRONE_WEBHOOK_SECRET: 'drone-shared-secret-for-tests',
      DRONE_CHANNEL_ID: discord.channels.general.id,
      // Nothing here is drawn; not launching Chromium spares the shared CPU.
      BROWSER_EXECUTABLE_PATH: '/nonexistent/chromium',
    });
    auth = { Authorization: `Bearer ${herald.token}` };
  });

  afterAll(async () => {
    await herald?.close();
    await discord?.stop();
  });

  describe('a body over the size limit answers 413', () => {
    const elevenMegabytes = JSON.stringify({ message: 'x'.repeat(11 * 1024 * 1024) });

    it.each(['/notify', '/render/discord-message', '/metrics/image'])('on POST %s', async (path) => {
      const response = await request(herald.url).post(path).set(auth).set('Content-Type', 'application/json').send(elevenMegabytes);
      expect(response.status).toBe(413);
      expect(response.body).toEqual({
        statusCode: 413,
        error: 'Payload Too Large',
        message: expect.stringContaining('larger than this endpoint takes'),
      });
    });

    it('on the Drone webhook', async () => {
      const response = await request(herald.url)
        .post('/drone/webhook')
        .set('Content-Type', 'application/json')
        .send('x'.repeat(6 * 1024 * 1024));
      expect(response.status).toBe(413);
      expect(response.body.message).toContain('larger than this endpoint takes');
    });

    it('and malformed JSON answers 400 saying so', async () => {
      const response = await request(herald.url).post('/notify').set(auth).set('Content-Type', 'application/json').send('{"message": ');
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/JSON/) });
    });
  });

  describe('POST /render/discord-message with required parts missing answers 400 naming the field', () => {
    it.each([
      ['no body', undefined, 'author'],
      ['no author', { content: 'hi' }, 'author'],
      ['a reaction without emoji', { author: { name: 'Ada' }, reactions: [{ count: 2 }] }, 'reactions[0].emoji'],
    ])('%s', async (_case, body, field) => {
      const call = request(herald.url).post('/render/discord-message').set(auth);
      const response = body === undefined ? await call : await call.send(body);
      expect(response.status).toBe(400);
      expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    });
  });

  it('answers a 10,000-item validation failure with the first errors and a count of the rest', async () => {
    const charts = Array.from({ length: 10_000 }, () => ({}));
    const response = await request(herald.url).post('/metrics/image').set(auth).send({ charts });
    expect(response.status).toBe(400);
    expect(response.body.errors).toHaveLength(MAX_FIELD_ERRORS);
    expect(response.body.errors[0].field).toBe('charts[0].title');
    expect(response.body.moreErrors).toBeGreaterThan(10_000);
    expect(response.body.message).toMatch(new RegExp(`and ${response.body.moreErrors} more$`));
    expect(JSON.stringify(response.body).length).toBeLessThan(10_000);
  });
});
