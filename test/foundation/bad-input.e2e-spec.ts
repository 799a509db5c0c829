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
      expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/^The body is not valid JSON: /) });
    });
  });

  describe('a body Herald cannot read as JSON says so, and nothing is sent', () => {
    const json = JSON.stringify({ message: 'should never reach Discord' });

    it.each([
      // What `curl -d '{...}'` sends without -H 'Content-Type: application/json'.
      [
        'JSON sent as a form',
        'application/x-www-form-urlencoded',
        json,
        /JSON but its Content-Type says application\/x-www-form-urlencoded.*curl -d/,
      ],
      ['JSON sent as text', 'text/plain', json, /Content-Type text\/plain is not read here/],
      ['XML', 'application/xml; charset=utf-8', '<message>hi</message>', /Content-Type application\/xml is not read here/],
    ])('%s answers 415', async (_case, type, body, message) => {
      const response = await request(herald.url).post('/notify').set(auth).set('Content-Type', type).send(body);
      expect(response.status).toBe(415);
      expect(response.body).toEqual({ statusCode: 415, error: 'Unsupported Media Type', message: expect.stringMatching(message) });
      expect(response.body.message).toContain('Content-Type: application/json');
    });

    it('a body without a Content-Type answers 415', async () => {
      // supertest sets no type for a Buffer body.
      const response = await request(herald.url).post('/notify').set(auth).send(Buffer.from(json));
      expect(response.status).toBe(415);
      expect(response.body.message).toBe('The body has no Content-Type: send the body as JSON with Content-Type: application/json');
    });

    it.each([
      ['null', 'null'],
      ['a number', ' 12'],
      ['a string', '"hello"'],
    ])('JSON that is %s answers 400 asking for an object', async (what, body) => {
      const response = await request(herald.url).post('/notify').set(auth).set('Content-Type', 'application/json').send(body);
      expect(response.status).toBe(400);
      expect(response.body.message).toBe(`The body must be a JSON object; this one is ${what}`);
    });

    it('a form that is a form, and JSON of a +json type, are read', async () => {
      const form = await request(herald.url).post('/notify').set(auth).type('form').send('message=sent%20as%20a%20form');
      expect(form.status).toBe(202);
      const patchType = await request(herald.url)
        .post('/notify?wait=true')
        .set(auth)
        .set('Content-Type', 'application/merge-patch+json')
        .send(JSON.stringify({ message: 'sent as +json' }));
      expect(patchType.status).toBe(200);
      // One lane per channel, in order: anything a refused request had stored would have been sent before these.
      const contents = discord.messages(discord.channels.general.id).map((message) => message.message.content);
      expect(contents).toEqual(['sent as a form', 'sent as +json']);
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
