import { normaliseColor, normaliseDiscordMessage } from './discord-message.normaliser';

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
        mentions: { users: [{ id: '223456789012345678', name: 'b' }, { id: '123456789012345678', name: 'a' }] },
      },
      { now },
    );
    const b = normaliseDiscordMessage(
      {
        author: { name: 'Ada', color: '#E67E22' },
        content: 'hi\nthere',
        timestamp: '2024-05-01T12:34:00Z',
        mentions: { users: [{ id: '123456789012345678', name: 'a' }, { id: '223456789012345678', name: 'b' }] },
      },
      { now: new Date('2030-01-01T00:00:00Z') },
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
