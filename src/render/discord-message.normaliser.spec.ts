import {
  calendarDay,
  defaultAvatarIndex,
  fileTypeOf,
  normaliseColor,
  normaliseDiscordConversation,
  normaliseDiscordMessage,
  normaliseScale,
} from './discord-message.normaliser';

const now = new Date('2024-05-01T12:34:56.789Z');

describe('normaliseDiscordMessage', () => {
  it('fills defaults: time to the minute, width, locale, time zone, empty lists', () => {
    const message = normaliseDiscordMessage({ author: { name: '  Ada  ' } }, { now });
    expect(message).toMatchObject({
      width: 640,
      locale: 'en-US',
      timeZone: 'UTC',
      author: { name: 'Ada', avatar: null, color: null, bot: false },
      content: '',
      timestamp: '2024-05-01T12:34:00.000Z',
      editedTimestamp: null,
      reply: null,
      attachments: [],
      embeds: [],
      now: null,
    });
  });

  it('gives the same result for the same message however it was spelled (stable cache key)', () => {
    const a = normaliseDiscordMessage(
      {
        author: { name: 'Ada', color: 0xe67e22 },
        content: 'hi\r\nthere',
        timestamp: '2024-05-01T14:34:00+02:00',
        mentions: {
          users: [
            { id: '223456789012345678', name: 'b' },
            { id: '123456789012345678', name: 'a' },
          ],
        },
      },
      { now, timestampStyle: 'absolute' },
    );
    const b = normaliseDiscordMessage(
      {
        author: { name: 'Ada', color: '#E67E22' },
        content: 'hi\nthere',
        timestamp: '2024-05-01T12:34:00Z',
        mentions: {
          users: [
            { id: '123456789012345678', name: 'a' },
            { id: '223456789012345678', name: 'b' },
          ],
        },
      },
      // Another day: with the calendar form the header would say "Today" for one and the date for the other.
      { now: new Date('2030-01-01T00:00:00Z'), timestampStyle: 'absolute' },
    );
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('finds custom emoji in content, reply and embeds and points them at Discord’s CDN unless told otherwise', () => {
    const message = normaliseDiscordMessage(
      {
        author: { name: 'Ada' },
        content: 'a <:blob:423456789012345678> b <a:party:523456789012345678>',
        reply: { author: { name: 'B' }, content: '<:old:623456789012345678>' },
        embeds: [{ fields: [{ name: 'x', value: '<:field:723456789012345678>' }] }],
        emojis: [{ id: '423456789012345678', url: 'https://media.example.com/blob.png' }],
      },
      { now },
    );
    expect(message.emojis).toEqual({
      '423456789012345678': 'https://media.example.com/blob.png',
      '523456789012345678': 'https://cdn.discordapp.com/emojis/523456789012345678.png?size=64',
      '623456789012345678': 'https://cdn.discordapp.com/emojis/623456789012345678.png?size=64',
      '723456789012345678': 'https://cdn.discordapp.com/emojis/723456789012345678.png?size=64',
    });
  });

  it('points emoji without a URL at the configured CDN (DISCORD_CDN_URL)', () => {
    const message = normaliseDiscordMessage(
      { author: { name: 'A' }, content: '<:blob:423456789012345678>', reactions: [{ emoji: { name: 'gem', id: '523456789012345678' }, count: 2 }] },
      { now, cdnUrl: 'http://127.0.0.1:9000/cdn/' },
    );
    expect(message.emojis).toEqual({ '423456789012345678': 'http://127.0.0.1:9000/cdn/emojis/423456789012345678.png' });
    expect(message.reactions[0].image).toBe('http://127.0.0.1:9000/cdn/emojis/523456789012345678.png');
  });

  it('keeps "now" only when the text has a relative timestamp', () => {
    expect(normaliseDiscordMessage({ author: { name: 'A' }, content: 'at <t:1714566840:F>' }, { now }).now).toBeNull();
    expect(normaliseDiscordMessage({ author: { name: 'A' }, content: 'in <t:1714566840:R>' }, { now }).now).toBe('2024-05-01T12:34:00.000Z');
  });

  it('draws only image attachments inline, and only from http(s) URLs', () => {
    const message = normaliseDiscordMessage(
      {
        author: { name: 'A' },
        attachments: [
          { url: 'https://cdn.discordapp.com/a/photo.PNG', filename: 'photo.PNG' },
          { url: 'https://cdn.discordapp.com/a/notes.txt', filename: 'notes.txt', contentType: 'text/plain', size: 10.4 },
          { url: 'javascript:alert(1)', filename: 'x.png', contentType: 'image/png' },
          { url: 'https://cdn.discordapp.com/a/SPOILER_cat.png', filename: 'SPOILER_cat.png', contentType: 'image/png' },
        ],
      },
      { now },
    );
    expect(message.attachments.map(({ kind, image, size, spoiler }) => ({ kind, image, size, spoiler }))).toEqual([
      { kind: 'image', image: 'https://cdn.discordapp.com/a/photo.PNG', size: 0, spoiler: false },
      { kind: 'file', image: null, size: 10, spoiler: false },
      { kind: 'file', image: null, size: 0, spoiler: false },
      { kind: 'image', image: 'https://cdn.discordapp.com/a/SPOILER_cat.png', size: 0, spoiler: true },
    ]);
  });

  it('prefers Discord’s media proxy for embed pictures and asks the CDN for small avatars', () => {
    const message = normaliseDiscordMessage(
      {
        author: { name: 'A', avatarUrl: 'https://cdn.discordapp.com/avatars/1/abc.png?size=4096' },
        embeds: [
          {
            color: 0x00ff00,
            author: { name: 'x', icon_url: 'https://example.com/i.png', proxy_icon_url: 'https://images-ext-1.discordapp.net/i.png' },
            image: { url: 'https://example.com/big.png', proxy_url: 'https://media.discordapp.net/big.png', width: 800.2, height: 0 },
            footer: { text: 'f' },
          },
        ],
      },
      { now },
    );
    expect(message.author.avatar).toBe('https://cdn.discordapp.com/avatars/1/abc.png?size=128');
    expect(message.embeds[0]).toMatchObject({
      color: '#00ff00',
      author: { name: 'x', icon: 'https://images-ext-1.discordapp.net/i.png' },
      image: { image: 'https://media.discordapp.net/big.png', width: 800, height: null },
      footer: { text: 'f' },
    });
    expect(message.embeds[0].footer).not.toHaveProperty('icon');
  });

  it('cuts internal callers to Discord’s limits and clamps the width', () => {
    const message = normaliseDiscordMessage(
      { author: { name: 'A' }, content: 'x'.repeat(5000), width: 5000, embeds: Array.from({ length: 12 }, () => ({ title: 't' })) },
      { now },
    );
    expect(message.content).toHaveLength(4000);
    expect(message.embeds).toHaveLength(10);
    expect(message.width).toBe(1200);
  });

  it('ignores an unknown time zone or locale instead of failing the render', () => {
    const message = normaliseDiscordMessage({ author: { name: 'A' }, timeZone: 'Mars/Olympus', locale: 'not a locale!' }, { now });
    expect([message.timeZone, message.locale]).toEqual(['UTC', 'en-US']);
  });
});

describe('normaliseColor', () => {
  it.each([
    [0x5865f2, '#5865f2'],
    ['#ABC', '#aabbcc'],
    ['#5865F2', '#5865f2'],
    [0, null],
    ['red', null],
    ['#5865f2;background:url(x)', null],
    [0x1000000, null],
  ])('%p → %p', (input, expected) => {
    expect(normaliseColor(input)).toBe(expected);
  });
});

describe('what the client draws differently since issue 20', () => {
  it("picks Discord's default avatar: (id >> 22) % 6 for new usernames, discriminator % 5 for legacy ones", () => {
    expect(defaultAvatarIndex('80351110224678912', '0')).toBe(Number((80351110224678912n >> 22n) % 6n));
    expect(defaultAvatarIndex('175928847299117063', null)).toBe(2);
    expect(defaultAvatarIndex('175928847299117063', '1338')).toBe(3);
    expect(defaultAvatarIndex(null, null)).toBe(0);
    expect(normaliseDiscordMessage({ author: { name: 'a', id: '175928847299117063' } }, { now }).author.defaultAvatar).toBe(2);
  });

  it('says today / yesterday relative to now in the viewer’s time zone, else nothing (the date is drawn)', () => {
    const at = new Date('2024-05-02T01:00:00Z');
    expect(calendarDay('2024-05-01T23:30:00Z', at, 'UTC')).toBe('yesterday');
    expect(calendarDay('2024-05-01T23:30:00Z', at, 'Europe/Berlin')).toBe('today');
    expect(calendarDay('2024-04-29T12:00:00Z', at, 'UTC')).toBeNull();
    // Each zone's formatter is kept: another zone, or the same one spelt otherwise, still counts days in its own zone.
    expect(['America/New_York', 'europe/berlin', 'UTC'].map((zone) => calendarDay('2024-05-01T23:30:00Z', at, zone))).toEqual([
      'today',
      'today',
      'yesterday',
    ]);
    const calendar = normaliseDiscordMessage({ author: { name: 'a' }, timestamp: '2024-05-01T09:00:00Z', now: '2024-05-01T20:00:00Z' }, { now });
    const absolute = normaliseDiscordMessage({ author: { name: 'a' }, timestamp: '2024-05-01T09:00:00Z', timestampStyle: 'absolute' }, { now });
    const bot = normaliseDiscordMessage({ author: { name: 'a' }, timestamp: '2024-05-01T09:00:00Z' }, { now, timestampStyle: 'absolute' });
    expect([calendar.timestampDay, absolute.timestampDay, bot.timestampDay]).toEqual(['today', null, null]);
  });

  it("reads an embed's footer time the same way as the header's (Discord's footer says \"Yesterday at …\" too)", () => {
    const embeds = [
      { title: 'a', timestamp: '2024-04-30T09:00:00Z' },
      { title: 'b', timestamp: '2024-04-01T09:00:00Z' },
    ];
    const calendar = normaliseDiscordMessage({ author: { name: 'a' }, embeds, now: '2024-05-01T20:00:00Z' }, { now });
    const absolute = normaliseDiscordMessage({ author: { name: 'a' }, embeds, timestampStyle: 'absolute' }, { now });
    expect(calendar.embeds.map((embed) => embed.timestampDay)).toEqual(['yesterday', null]);
    expect(absolute.embeds.map((embed) => embed.timestampDay ?? null)).toEqual([null, null]);
  });

  it('writes "@" in the reply line only when the reply pings, and marks verified bots', () => {
    const message = normaliseDiscordMessage(
      { author: { name: 'bot', bot: true, verified: true }, reply: { author: { name: 'a', verified: true }, content: 'x', mentionsAuthor: true } },
      { now },
    );
    expect(message.author.verified).toBe(true);
    expect(message.reply).toMatchObject({ mentionsAuthor: true, author: { verified: false } });
    expect(normaliseDiscordMessage({ author: { name: 'b' }, reply: { author: { name: 'a' }, content: 'x' } }, { now }).reply?.mentionsAuthor).toBe(
      false,
    );
  });

  it('sorts files into the client’s icon kinds, videos and GIFs into the mosaic with their badge', () => {
    expect(['a.zip', 'a.ts', 'a.pdf', 'a.csv', 'a.mp3', 'a.mkv', 'a.svg', 'a.bin'].map((name) => fileTypeOf(name, null))).toEqual([
      'archive',
      'code',
      'document',
      'spreadsheet',
      'audio',
      'video',
      'image',
      'unknown',
    ]);
    expect(fileTypeOf('noext', 'audio/ogg')).toBe('audio');
    const message = normaliseDiscordMessage(
      {
        author: { name: 'a' },
        attachments: [
          {
            url: 'https://cdn.example.com/a.mp4',
            filename: 'a.mp4',
            contentType: 'video/mp4',
            previewUrl: 'https://media.example.com/a.mp4?format=jpeg',
          },
          { url: 'https://cdn.example.com/b.gif', filename: 'b.gif', contentType: 'image/gif' },
          { url: 'https://cdn.example.com/c.webm', filename: 'c.webm' },
        ],
      },
      { now },
    );
    expect(message.attachments.map(({ kind, badge, image }) => ({ kind, badge, image }))).toEqual([
      { kind: 'video', badge: 'play', image: 'https://media.example.com/a.mp4?format=jpeg' },
      { kind: 'image', badge: 'gif', image: 'https://cdn.example.com/b.gif' },
      { kind: 'video', badge: 'play', image: null },
    ]);
  });

  it('draws Tenor GIFs and image links as the bare picture from their thumbnail, and hides the link they replace', () => {
    const link = 'https://tenor.com/view/party-123';
    const message = normaliseDiscordMessage(
      {
        author: { name: 'a' },
        content: link,
        embeds: [
          {
            type: 'gifv',
            url: link,
            thumbnail: { url: 'https://media.example.com/still.png', width: 100, height: 50 },
            video: { url: 'https://x/v.mp4', width: 200, height: 100 },
          },
          { type: 'video', title: 'yt', thumbnail: { url: 'https://media.example.com/yt.jpg', width: 1280, height: 720 } },
        ],
      },
      { now },
    );
    expect(message.content).toBe('');
    expect(message.embeds[0]).toMatchObject({
      kind: 'media',
      image: { image: 'https://media.example.com/still.png', width: 200, height: 100, badge: 'gif' },
    });
    expect(message.embeds[1]).toMatchObject({ kind: 'rich', thumbnail: null, image: { image: 'https://media.example.com/yt.jpg', badge: 'play' } });
    const textAround = normaliseDiscordMessage(
      { author: { name: 'a' }, content: `look ${link}`, embeds: [{ type: 'gifv', url: link, thumbnail: { url: 'https://m/x.png' } }] },
      { now },
    );
    expect(textAround.content).toBe(`look ${link}`);
  });

  it('rounds scale to quarter steps within 1–3', () => {
    expect([normaliseScale(undefined), normaliseScale(1.6), normaliseScale(2), normaliseScale(9)]).toEqual([1, 1.5, 2, 3]);
  });
});

describe('normaliseDiscordConversation', () => {
  const grace = { name: 'grace', id: '123456789012345678' };
  const linus = { name: 'linus', id: '175928847299117063' };
  const at = (iso: string) => `2024-05-0${iso}:00.000Z`;

  it('groups the same author within 7 minutes, breaks groups at a new day, a reply, another author or the NEW line', () => {
    const conversation = normaliseDiscordConversation(
      {
        theme: 'light',
        newMessagesFrom: 6,
        messages: [
          { author: grace, content: '1', timestamp: at('1T10:00') },
          { author: grace, content: '2 (grouped)', timestamp: at('1T10:06') },
          { author: grace, content: '3 (8 minutes later)', timestamp: at('1T10:14') },
          { author: grace, content: '4 (a reply)', timestamp: at('1T10:15'), reply: { author: linus, content: 'x' } },
          { author: linus, content: '5 (another author)', timestamp: at('1T10:16') },
          { author: linus, content: '6 (next day)', timestamp: at('2T09:00') },
          { author: linus, content: '7 (after the NEW line)', timestamp: at('2T09:01') },
        ],
      },
      { now },
    );
    expect(conversation).toMatchObject({ kind: 'conversation', theme: 'light', width: 640 });
    expect(conversation.messages.map(({ grouped, dateSeparator, newMessages }) => [grouped, dateSeparator, newMessages])).toEqual([
      [false, true, false],
      [true, false, false],
      [false, false, false],
      [false, false, false],
      [false, false, false],
      [false, true, false],
      [false, false, true],
    ]);
    expect(conversation.messages[0]).not.toHaveProperty('theme');
  });

  it('keeps at most 30 messages', () => {
    const messages = Array.from({ length: 40 }, (_, index) => ({ author: grace, content: String(index), timestamp: at('1T10:00') }));
    expect(normaliseDiscordConversation({ messages }, { now }).messages).toHaveLength(30);
  });
});
