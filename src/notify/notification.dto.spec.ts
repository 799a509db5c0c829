import { BadRequestException } from '@nestjs/common';
import { createValidationPipe, FieldError } from '../common/validation';
import { CreateNotificationDto, EditNotificationDto } from './notification.dto';

const pipe = createValidationPipe();

/** Runs the app's own ValidationPipe and returns the field errors a client would get (empty when accepted). */
async function fieldErrors(body: unknown, metatype: new () => object = CreateNotificationDto): Promise<FieldError[]> {
  try {
    await pipe.transform(body, { type: 'body', metatype });
    return [];
  } catch (error) {
    if (!(error instanceof BadRequestException)) throw error;
    return (error.getResponse() as { errors: FieldError[] }).errors;
  }
}

async function fields(body: unknown, metatype?: new () => object): Promise<string[]> {
  return (await fieldErrors(body, metatype)).map((error) => error.field);
}

const text = (length: number, char = 'a') => char.repeat(length);

describe('notification body validation (Discord limits)', () => {
  it('accepts the simplest notification and a full one', async () => {
    expect(await fields({ message: 'Backup finished' })).toEqual([]);
    expect(
      await fields({
        channelId: '123456789012345678',
        content: 'Nightly',
        severity: 'success',
        username: 'backup-bot',
        avatarUrl: 'https://example.com/a.png',
        embeds: [
          {
            title: 'Backup',
            description: 'done',
            url: 'https://example.com',
            timestamp: '2025-01-31T12:00:00Z',
            color: 0xff0000,
            footer: { text: 'f', icon_url: 'https://example.com/i.png' },
            image: { url: 'https://example.com/chart.png' },
            thumbnail: { url: 'https://example.com/t.png' },
            fields: [{ name: 'Size', value: '42 GB', inline: true }],
          },
        ],
      }),
    ).toEqual([]);
  });

  it('accepts every limit exactly at its maximum', async () => {
    const fieldsAtMax = Array.from({ length: 25 }, () => ({ name: 'n', value: 'v' }));
    expect(await fields({ content: text(2000) })).toEqual([]);
    expect(await fields({ embeds: Array.from({ length: 10 }, () => ({ title: 't' })) })).toEqual([]);
    expect(await fields({ embeds: [{ title: text(256), description: text(4096), fields: fieldsAtMax }] })).toEqual([]);
    expect(await fields({ embeds: [{ fields: [{ name: text(256), value: text(1024) }] }] })).toEqual([]);
    expect(await fields({ embeds: [{ footer: { text: text(2048) }, author: { name: text(256) } }] })).toEqual([]);
  });

  it.each([
    ['content', { content: text(2001) }],
    ['message', { message: text(2001) }],
    ['embeds', { embeds: Array.from({ length: 11 }, () => ({ title: 't' })) }],
    ['embeds[0].title', { embeds: [{ title: text(257) }] }],
    ['embeds[1].description', { embeds: [{ title: 'ok' }, { description: text(4097) }] }],
    ['embeds[0].fields', { embeds: [{ fields: Array.from({ length: 26 }, () => ({ name: 'n', value: 'v' })) }] }],
    [
      'embeds[0].fields[2].name',
      {
        embeds: [
          {
            fields: [
              { name: 'a', value: 'b' },
              { name: 'a', value: 'b' },
              { name: text(257), value: 'v' },
            ],
          },
        ],
      },
    ],
    ['embeds[0].fields[0].value', { embeds: [{ fields: [{ name: 'n', value: text(1025) }] }] }],
    ['embeds[0].footer.text', { embeds: [{ footer: { text: text(2049) } }] }],
    ['embeds[0].author.name', { embeds: [{ author: { name: text(257) } }] }],
    ['username', { message: 'hi', username: text(257) }],
  ])('names %s when its limit is exceeded', async (field, body) => {
    expect(await fields(body)).toEqual([field]);
  });

  it('enforces the 6000-character total across all embeds and names embeds', async () => {
    const atLimit = [{ description: text(4000) }, { description: text(1000), fields: [{ name: text(200), value: text(800) }] }];
    expect(await fields({ embeds: atLimit })).toEqual([]);

    const over = [
      { title: text(1), description: text(4000) },
      { description: text(1000), fields: [{ name: text(200), value: text(800) }] },
    ];
    const errors = await fieldErrors({ embeds: over });
    expect(errors).toEqual([{ field: 'embeds', messages: [expect.stringContaining('6000')] }]);
    expect(errors[0].messages[0]).toContain('got 6001');
  });

  it('counts footers, author names and the username author line into the total', async () => {
    const embeds = [
      { description: text(4096), footer: { text: text(1000) } },
      { title: text(256), author: { name: text(256) }, fields: [{ name: text(200), value: text(192) }] },
    ];
    expect(await fields({ embeds })).toEqual([]);
    expect(await fields({ embeds, username: 'x' })).toEqual(['embeds']);
  });

  it('counts an emoji as one character, as Discord does', async () => {
    expect(await fields({ embeds: [{ title: text(256, '🚀') }] })).toEqual([]);
    expect(await fields({ embeds: [{ title: text(257, '🚀') }] })).toEqual(['embeds[0].title']);
  });

  it('refuses an empty notification, naming message', async () => {
    const errors = await fieldErrors({});
    expect(errors).toEqual([{ field: 'message', messages: [expect.stringContaining('one of message, content or embeds')] }]);
    expect(await fields({ content: '' })).toEqual(['message']);
    expect(await fields({ embeds: [] })).toEqual(['message']);
    expect(await fields({ message: '   ' })).toEqual(['message']);
  });

  it('does not mix the message shorthand with content or embeds', async () => {
    expect(await fields({ message: 'a', content: 'b' })).toEqual(['message']);
    expect(await fields({ message: 'a', embeds: [{ title: 't' }] })).toEqual(['message']);
  });

  it('needs an embed for severity, username and avatarUrl', async () => {
    expect(await fields({ content: 'x', severity: 'error' })).toEqual(['severity']);
    expect(await fields({ content: 'x', username: 'bot' })).toEqual(['username']);
    expect(await fields({ content: 'x', avatarUrl: 'https://example.com/a.png' })).toEqual(['avatarUrl']);
    expect(await fields({ message: 'x', avatarUrl: 'https://example.com/a.png' })).toEqual(['avatarUrl']);
    expect(await fields({ message: 'x', severity: 'error', username: 'bot' })).toEqual([]);
    expect(await fields({ embeds: [{ title: 't', author: { name: 'a' } }], username: 'bot' })).toEqual(['username']);
  });

  it('rejects unknown severities, malformed urls, colours and channel ids', async () => {
    expect(await fields({ message: 'x', severity: 'fatal' })).toEqual(['severity']);
    expect(await fields({ message: 'x', channelId: 'general' })).toEqual(['channelId']);
    expect(await fields({ embeds: [{ title: 't', url: 'javascript:alert(1)' }] })).toEqual(['embeds[0].url']);
    expect(await fields({ embeds: [{ title: 't', color: 0x1000000 }] })).toEqual(['embeds[0].color']);
    expect(await fields({ embeds: [{ title: 't', timestamp: 'yesterday' }] })).toEqual(['embeds[0].timestamp']);
    expect(await fields({ embeds: [{ fields: [{ name: 'n' }] }] })).toEqual(['embeds[0].fields[0].value']);
  });

  it('reads null as absent in every optional field, as Discord does, and still refuses a wrong type', async () => {
    expect(await fields({ message: 'Deploy finished', embeds: null })).toEqual([]);
    expect(await fields({ message: 'x', content: null, severity: null, username: null, avatarUrl: null, channelId: null })).toEqual([]);
    expect(await fields({ message: null, content: 'x' })).toEqual([]);
    expect(await fields({ embeds: [{ title: 't' }], content: null }, EditNotificationDto)).toEqual([]);
    expect(await fields({ message: null, embeds: null })).toEqual(['message']);
    expect(await fields({ content: 'x', embeds: 'none' })).toEqual(['embeds']);
    expect(await fields({ message: 'x', channelId: 0 })).toEqual(['channelId']);
  });

  it('refuses fields it does not know, also inside embeds', async () => {
    expect(await fields({ message: 'x', tts: true })).toEqual(['tts']);
    expect(await fields({ embeds: [{ title: 't', video: { url: 'https://example.com/v.mp4' } }] })).toEqual(['embeds[0].video']);
  });

  it('applies the same limits to an edit, which cannot move the message to another channel', async () => {
    expect(await fields({ embeds: [{ title: text(257) }] }, EditNotificationDto)).toEqual(['embeds[0].title']);
    expect(await fields({ message: 'x', channelId: '123456789012345678' }, EditNotificationDto)).toEqual(['channelId']);
  });
});
