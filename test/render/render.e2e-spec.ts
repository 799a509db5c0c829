import { join } from 'node:path';
import { PNG } from 'pngjs';
import request from 'supertest';
import { BrowserPool } from '../../src/browser/browser-pool';
import type { DiscordMessageView } from '../../src/render/discord-message.view';
import { normaliseDiscordMessage } from '../../src/render/discord-message.normaliser';
import { ObjectStorage } from '../../src/storage/object-storage';
import { bootHerald, eventually, type HeraldUnderTest } from '../support/app';
import { expectMatchesGolden } from '../support/golden';
import { metric } from '../support/metrics';
import { startImageServer, type ImageServer } from './image-server';
import { goldenConversations, goldenMediaMessages, goldenMessages } from './messages';

const GOLDENS = join(__dirname, 'goldens');

jest.setTimeout(180_000);

function binary(response: request.Response, callback: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  const stream = response as unknown as NodeJS.ReadableStream;
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => callback(null, Buffer.concat(chunks)));
}

describe('POST /render/discord-message', () => {
  let cdn: ImageServer;
  let herald: HeraldUnderTest;
  const messages = () => goldenMessages(cdn.url);

  const post = (body: object, query = '', path = '/render/discord-message') =>
    request(herald.url).post(`${path}${query}`).set('authorization', `Bearer ${herald.token}`).send(body).buffer(true).parse(binary);

  beforeAll(async () => {
    cdn = await startImageServer();
    herald = await bootHerald({
      RENDER_FETCH_ALLOWLIST: cdn.host,
      RENDER_FETCH_TIMEOUT_MS: '1500',
      RENDER_FETCH_MAX_BYTES: String(1024 * 1024),
      BROWSER_POOL_SIZE: '2',
    });
  });

  afterAll(async () => {
    await herald?.close();
    await cdn?.close();
  });

  describe('golden images', () => {
    // Built lazily: the image server's port is only known in beforeAll.
    const names = Object.keys(goldenMessages('http://placeholder'));

    it.each(names)('%s looks like its golden image', async (name) => {
      const response = await post(messages()[name]);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('image/png');
      expectMatchesGolden(GOLDENS, name, response.body as Buffer);
    });

    const mediaNames = Object.keys(goldenMediaMessages('http://placeholder'));
    it.each(mediaNames)('%s looks like its golden image', async (name) => {
      const response = await post(goldenMediaMessages(cdn.url)[name]);
      expect(response.status).toBe(200);
      expectMatchesGolden(GOLDENS, name, response.body as Buffer);
    });

    const conversationNames = Object.keys(goldenConversations('http://placeholder'));
    it.each(conversationNames)('%s looks like its golden image (POST /render/discord-conversation)', async (name) => {
      const response = await post(goldenConversations(cdn.url)[name], '', '/render/discord-conversation');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('image/png');
      expectMatchesGolden(GOLDENS, name, response.body as Buffer);
    });
  });

  it("scale 2 draws twice the pixels of scale 1, and ?store=true reports the PNG's own size", async () => {
    const message = { ...goldenMediaMessages(cdn.url)['scale-2'], content: 'scale me' };
    const one = PNG.sync.read((await post({ ...message, scale: 1 })).body as Buffer);
    const two = PNG.sync.read((await post(message)).body as Buffer);
    expect([two.width, two.height]).toEqual([one.width * 2, one.height * 2]);
    const stored = await request(herald.url)
      .post('/render/discord-message?store=true')
      .set('authorization', `Bearer ${herald.token}`)
      .send({ ...message, scale: 1.5 });
    expect(stored.status).toBe(200);
    expect(stored.body.width).toBe(720);
  });

  it('timestamps: "Today at" / "Yesterday at" relative to the given now, the date when absolute is asked for', async () => {
    const message = { author: { name: 'clock' }, content: 'when?', timestamp: '2024-05-01T09:30:00.000Z' };
    const render = async (body: object) => {
      const response = await post(body);
      expect(response.status).toBe(200);
      return response;
    };
    const today = await render({ ...message, now: '2024-05-01T18:00:00.000Z' });
    const todayLater = await render({ ...message, now: '2024-05-01T20:00:00.000Z' });
    const yesterday = await render({ ...message, now: '2024-05-02T08:00:00.000Z' });
    const absolute = await render({ ...message, now: '2024-05-01T18:00:00.000Z', timestampStyle: 'absolute' });
    // Only the relation to now is in the cache key: two times on the same day are one image.
    expect(todayLater.headers.etag).toBe(today.headers.etag);
    expect(new Set([today, yesterday, absolute].map((response) => response.headers.etag)).size).toBe(3);

    // What the header says, read from the page the service draws on.
    const pool = herald.app.get(BrowserPool);
    const base = normaliseDiscordMessage(message, { now: new Date('2024-05-01T18:00:00.000Z') });
    const headers = await pool.lease('discord-message', async (page) => {
      const said: string[] = [];
      for (const timestampDay of ['today', 'yesterday', null] as const) {
        await page.evaluate((view) => (window as unknown as { herald: { render(v: unknown): Promise<unknown> } }).herald.render(view), {
          ...base,
          timestampDay,
        });
        said.push(await page.evaluate(() => document.querySelector('.timestamp')?.textContent ?? ''));
      }
      return said;
    });
    expect(headers).toEqual(['Today at 9:30 AM', 'Yesterday at 9:30 AM', '5/1/24, 9:30 AM']);
  });

  it("a file card's size is written in the render's locale: a decimal comma in German, a point in English", async () => {
    const message = {
      author: { name: 'files' },
      content: 'the logs',
      timestamp: '2024-05-01T09:30:00.000Z',
      attachments: [
        { url: 'https://cdn.example/build.log', filename: 'build.log', size: 1536, contentType: 'text/plain' },
        { url: 'https://cdn.example/tiny.txt', filename: 'tiny.txt', size: 512, contentType: 'text/plain' },
      ],
    };
    const pool = herald.app.get(BrowserPool);
    const sizes = await pool.lease('discord-message', async (page) => {
      const said: string[][] = [];
      for (const locale of ['en-US', 'de-DE']) {
        await page.evaluate((view) => (window as unknown as { herald: { render(v: unknown): Promise<unknown> } }).herald.render(view), {
          ...normaliseDiscordMessage({ ...message, locale }, { now: new Date('2024-05-01T18:00:00.000Z') }),
        });
        said.push(await page.evaluate(() => Array.from(document.querySelectorAll('.file-size')).map((size) => size.textContent ?? '')));
      }
      return said;
    });
    expect(sizes).toEqual([
      ['1.50 KB', '512 bytes'],
      ['1,50 KB', '512 bytes'],
    ]);
  });

  it('answers 400 naming each bad new field: theme, scale, timestampStyle, now, embed type, author id', async () => {
    const response = await request(herald.url)
      .post('/render/discord-message')
      .set('authorization', `Bearer ${herald.token}`)
      .send({
        author: { name: 'x', id: 'not-a-snowflake', discriminator: '12' },
        theme: 'sepia',
        scale: 4,
        timestampStyle: 'fuzzy',
        now: 'yesterday',
        embeds: [{ type: 'hologram' }],
      });
    expect(response.status).toBe(400);
    const fields = (response.body as { errors: { field: string }[] }).errors.map((error) => error.field);
    expect(fields).toEqual(
      expect.arrayContaining(['author.id', 'author.discriminator', 'theme', 'scale', 'timestampStyle', 'now', 'embeds[0].type']),
    );
  });

  it('POST /render/discord-conversation answers 400 for no messages, too many, or a message without its time', async () => {
    const send = (body: object) => request(herald.url).post('/render/discord-conversation').set('authorization', `Bearer ${herald.token}`).send(body);
    const one = { author: { name: 'a' }, content: 'x', timestamp: '2024-05-01T12:00:00.000Z' };
    const empty = await send({ messages: [] });
    const tooMany = await send({ messages: Array.from({ length: 31 }, () => one) });
    const untimed = await send({ messages: [one, { author: { name: 'b' }, content: 'y' }], newMessagesFrom: -1 });
    for (const response of [empty, tooMany, untimed]) expect(response.status).toBe(400);
    const fields = (response: request.Response) => (response.body as { errors: { field: string }[] }).errors.map((error) => error.field);
    expect(fields(empty)).toContain('messages');
    expect(fields(tooMany)).toContain('messages');
    expect(fields(untimed)).toEqual(expect.arrayContaining(['messages[1].timestamp', 'newMessagesFrom']));
  });

  it('draws user text as text: no script runs, no markup or style gets in, links lead nowhere', async () => {
    const pool = herald.app.get(BrowserPool);
    const view: DiscordMessageView = {
      width: 640,
      theme: 'dark',
      locale: 'en-US',
      timeZone: 'UTC',
      author: {
        name: '<img src=x onerror="window.pwned=1">',
        avatar: 'javascript:window.pwned=1',
        defaultAvatar: 0,
        color: 'red;background:url(http://evil.example/)',
        bot: false,
        verified: false,
      },
      content: '<script>window.pwned=1</script> <img src=x onerror="window.pwned=1"> [x](javascript:window.pwned=1) <style>*{color:red}</style>',
      timestamp: '2024-05-01T12:34:00.000Z',
      timestampDay: null,
      editedTimestamp: null,
      reply: null,
      mentions: { users: {}, roles: { '223456789012345678': { name: '<b>role</b>', color: 'red;x:url(http://evil.example/)' } }, channels: {} },
      emojis: {},
      attachments: [
        {
          filename: '"><script>window.pwned=1</script>',
          size: 1,
          kind: 'image',
          image: 'http://evil.example/a.png',
          badge: null,
          fileType: 'image',
          width: 10,
          height: 10,
          spoiler: false,
        },
      ],
      embeds: [],
      reactions: [],
      stickers: [],
      now: null,
    };
    const seen = await pool.lease('discord-message', async (page) => {
      await page.evaluate((input) => (window as unknown as { herald: { render(v: unknown): Promise<unknown> } }).herald.render(input), view);
      return page.evaluate(() => ({
        pwned: (window as unknown as { pwned?: number }).pwned ?? 0,
        scripts: document.scripts.length,
        styles: document.querySelectorAll('style').length,
        anchors: document.querySelectorAll('a[href]').length,
        handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
        images: Array.from(document.images).map((image) => image.getAttribute('src') ?? ''),
        text: document.getElementById('root')?.innerText ?? '',
        nameColor: getComputedStyle(document.querySelector('.username')!).color,
      }));
    });
    expect(seen.pwned).toBe(0);
    expect(seen.scripts).toBe(1); // the template's own bundle
    expect(seen.styles).toBe(0);
    expect(seen.anchors).toBe(0);
    expect(seen.handlers).toBe(0);
    expect(seen.images.every((src) => src.startsWith('data:'))).toBe(true);
    expect(seen.text).toContain('<img src=x onerror="window.pwned=1">');
    expect(seen.text).toContain('<script>window.pwned=1</script>');
    expect(seen.text).toContain('[x](javascript:window.pwned=1)');
    expect(seen.text).toContain('<style>*{color:red}</style>');
    expect(seen.nameColor).toBe('rgb(242, 243, 245)'); // the default name colour: the injected one was refused
  });

  it('draws a message on a page that drew others exactly as on a fresh page, the same picture twice included', async () => {
    // A warm page keeps the <img> that drew a picture and moves it into the next render that shows the same picture.
    const png = new PNG({ width: 64, height: 48 });
    png.data.fill(0xc8);
    const picture = `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
    const person = (name: string, avatar: string | null) => ({ name, avatar, defaultAvatar: 0, color: null, bot: false, verified: false });
    const base: DiscordMessageView = {
      width: 640,
      theme: 'dark',
      locale: 'en-US',
      timeZone: 'UTC',
      author: person('author', null),
      content: 'a picture',
      timestamp: '2024-05-01T12:34:00.000Z',
      timestampDay: null,
      editedTimestamp: null,
      reply: null,
      mentions: { users: {}, roles: {}, channels: {} },
      emojis: { '323456789012345678': picture },
      attachments: [],
      embeds: [],
      reactions: [],
      stickers: [],
      now: null,
    };
    // The same picture as attachment of unknown size, as a sized attachment, as emoji, and as two avatars at once.
    const views: DiscordMessageView[] = [
      {
        ...base,
        attachments: [
          { filename: 'a.png', size: 1, kind: 'image', image: picture, badge: null, fileType: 'image', width: null, height: null, spoiler: false },
        ],
      },
      {
        ...base,
        attachments: [
          { filename: 'b.png', size: 1, kind: 'image', image: picture, badge: null, fileType: 'image', width: 1280, height: 960, spoiler: false },
        ],
      },
      {
        ...base,
        author: person('author', picture),
        reply: { author: person('replied', picture), content: 'earlier', hasAttachments: false, mentionsAuthor: false },
      },
      { ...base, content: 'a picture <:pic:323456789012345678>' },
    ];
    const pool = herald.app.get(BrowserPool);
    const draw = (page: import('playwright').Page, view: DiscordMessageView) =>
      page.evaluate(async (input) => {
        await (window as unknown as { herald: { render(view: unknown): Promise<unknown> } }).herald.render(input);
        return Array.from(document.querySelectorAll('#root img')).map((image) => {
          const box = image.getBoundingClientRect();
          const attributes = image
            .getAttributeNames()
            .sort()
            .map((name) => `${name}=${name === 'src' ? image.getAttribute(name)!.length : image.getAttribute(name)}`);
          return { attributes, width: Math.round(box.width), height: Math.round(box.height) };
        });
      }, view);

    const drawn = await pool.lease('discord-message', async (page) => {
      const first = [];
      for (const view of views) first.push(await draw(page, view));
      const again = [];
      for (const view of [...views].reverse()) again.unshift(await draw(page, view));
      return { first, again };
    });
    // Every message drew its pictures — the author's and the replied-to avatar are two pictures, both drawn.
    expect(drawn.first.map((images) => images.length)).toEqual([1, 1, 2, 1]);
    expect(drawn.first[2].filter((image) => image.width === 40 && image.height === 40)).toHaveLength(1);
    expect(drawn.first[2].filter((image) => image.width === 16 && image.height === 16)).toHaveLength(1);
    // Drawn again after the others, in another order, each is exactly what it was: no size, role or style carried over.
    expect(drawn.again).toEqual(drawn.first);
  });

  it('never lets a page reach the network: no request leaves any warm page', async () => {
    const pool = herald.app.get(BrowserPool);
    // Hold every slot at once so each warm page is inspected.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inspections = Array.from({ length: pool.size }, () =>
      pool.lease('discord-message', async (page) => {
        await gate;
        return page.evaluate(() => (window as unknown as { herald: { blockedRequests: string[] } }).herald.blockedRequests);
      }),
    );
    setTimeout(release, 500);
    const blockedByPolicy = (await Promise.all(inspections)).flat();
    expect(blockedByPolicy).toEqual([]);
    expect(await metric(herald.url, 'herald_browser_blocked_requests_total')).toBe(0);

    // The check above can fail: a page that does reach out is caught and counted.
    await pool.lease('blank', (page) =>
      page.evaluate(() =>
        fetch('http://203.0.113.1/probe').then(
          () => undefined,
          () => undefined,
        ),
      ),
    );
    expect(await metric(herald.url, 'herald_browser_blocked_requests_total')).toBe(1);
  });

  it('renders identical input once: the repeat comes from the cache and fetches nothing', async () => {
    const message = { ...messages()['markdown-inline'], content: 'cache me once' };
    const rendersBefore = await metric(herald.url, 'herald_renders_total', { template: 'discord-message' });
    const first = await post(message);
    const fetchesAfterFirst = cdn.requests.length;
    const second = await post(message);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers.etag).toBe(first.headers.etag);
    expect((second.body as Buffer).equals(first.body as Buffer)).toBe(true);
    expect(await metric(herald.url, 'herald_renders_total', { template: 'discord-message' })).toBe(rendersBefore + 1);
    expect(cdn.requests.length).toBe(fetchesAfterFirst);
  });

  it('records how long each step of a render took on /metrics: lease, images, patch and screenshot', async () => {
    const steps = ['lease', 'images', 'patch', 'screenshot'];
    const count = (step: string) => metric(herald.url, 'herald_render_step_seconds_count', { template: 'discord-message', step });
    const before = await Promise.all(steps.map(count));
    expect((await post({ ...messages()['markdown-inline'], content: 'time every step of me' })).status).toBe(200);
    expect(await Promise.all(steps.map(count))).toEqual(before.map((value) => value + 1));
  });

  it('?store=true keeps the PNG in S3 and answers its URN, key and size', async () => {
    const message = { ...messages().mentions, content: 'stored <@123456789012345678>' };
    const response = await request(herald.url)
      .post('/render/discord-message?store=true')
      .set('authorization', `Bearer ${herald.token}`)
      .send(message);
    expect(response.status).toBe(200);
    const { urn, key, bytes, width, height } = response.body as { urn: string; key: string; bytes: number; width: number; height: number };
    expect(key).toMatch(/^render\/[0-9a-f]{64}\.png$/);
    expect(urn).toBe(`s3://${herald.config.s3.bucket}/${key}`);
    const object = await herald.app.get(ObjectStorage).get(key);
    expect(object).not.toBeNull();
    expect(object!.length).toBe(bytes);
    const png = PNG.sync.read(object!);
    expect([png.width, png.height]).toEqual([width, height]);
    expect(width).toBe(640);
  });

  it('a new process finds an earlier render in S3 instead of drawing it again', async () => {
    const message = { ...messages()['markdown-inline'], content: 'survives a restart' };
    const first = await request(herald.url).post('/render/discord-message?store=true').set('authorization', `Bearer ${herald.token}`).send(message);
    const second = await bootHerald(herald.env, { fresh: false });
    try {
      const rendersBefore = await metric(second.url, 'herald_renders_total', { template: 'discord-message' });
      const again = await request(second.url).post('/render/discord-message?store=true').set('authorization', `Bearer ${second.token}`).send(message);
      expect(again.body).toEqual(first.body);
      expect(await metric(second.url, 'herald_render_cache_total', { source: 's3' })).toBeGreaterThanOrEqual(1);
      expect(await metric(second.url, 'herald_renders_total', { template: 'discord-message' })).toBe(rendersBefore);
    } finally {
      await second.close();
    }
  });

  it('answers 400 naming each bad field, and draws nothing', async () => {
    const response = await request(herald.url)
      .post('/render/discord-message')
      .set('authorization', `Bearer ${herald.token}`)
      .send({
        author: { name: 'x', color: 'red;background:url(http://evil.example/)' },
        timeZone: 'Mars/Olympus',
        embeds: [{ title: 'x'.repeat(300), fields: Array.from({ length: 26 }, () => ({ name: 'n', value: 'v' })) }],
        unknownField: 1,
      });
    expect(response.status).toBe(400);
    const fields = (response.body as { errors: { field: string }[] }).errors.map((error) => error.field);
    expect(fields).toEqual(expect.arrayContaining(['author.color', 'timeZone', 'embeds[0].title', 'embeds[0].fields', 'unknownField']));
  });

  it("Swagger's example body renders as a PNG", async () => {
    const { body: document } = await request(herald.url).get('/docs-json');
    const operation = document.paths['/render/discord-message'].post;
    const example = operation.requestBody.content['application/json'].examples['every feature'].value;
    expect(operation.responses['200'].content['image/png']).toBeDefined();
    const response = await post(example);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(PNG.sync.read(response.body as Buffer).width).toBe(640);
  });

  it("Swagger's conversation example renders as a PNG", async () => {
    const { body: document } = await request(herald.url).get('/docs-json');
    const operation = document.paths['/render/discord-conversation'].post;
    const example = operation.requestBody.content['application/json'].examples['a short thread'].value;
    const response = await post(example, '', '/render/discord-conversation');
    expect(response.status).toBe(200);
    expect(PNG.sync.read(response.body as Buffer).width).toBe(640);
  });

  it('answers 401 without the system token', async () => {
    const response = await request(herald.url).post('/render/discord-message').send(messages()['markdown-inline']);
    expect(response.status).toBe(401);
  });

  it('survives Chromium being killed during a burst: each render succeeds or gets a clear 503, and rendering recovers', async () => {
    const pool = herald.app.get(BrowserPool);
    await post({ ...messages()['markdown-inline'], content: 'warm the browser' });
    const pid = pool.browserPid();
    expect(pid).toBeDefined();

    const burst = Array.from({ length: 12 }, (_, index) => post({ ...messages().mentions, content: `burst ${index} <@123456789012345678> 🎉` }));
    setTimeout(() => process.kill(pid!, 'SIGKILL'), 150);
    const responses = await Promise.all(burst);

    for (const response of responses) {
      if (response.status === 200) {
        expect(response.headers['content-type']).toBe('image/png');
        expect(PNG.sync.read(response.body as Buffer).width).toBe(640);
      } else {
        expect({ status: response.status, body: (response.body as Buffer).toString('utf8') }).toMatchObject({ status: 503 });
        expect(response.headers['retry-after']).toMatch(/^\d+$/);
        expect(JSON.parse((response.body as Buffer).toString('utf8')).message).toMatch(/browser|capacity|retry/i);
      }
    }
    // Either way, the browser came back: a fresh message renders within seconds.
    const recovered = await eventually(
      async () => {
        const response = await post({ ...messages()['markdown-inline'], content: `after the crash ${Date.now()}` });
        return response.status === 200 ? response : undefined;
      },
      20_000,
      250,
    );
    expect(recovered.headers['content-type']).toBe('image/png');
    expect(pool.browserPid()).not.toBe(pid);
  });
});
