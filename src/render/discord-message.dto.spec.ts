import { BadRequestException } from '@nestjs/common';
import { createValidationPipe, type FieldError } from '../common/validation';
import { RenderDiscordMessageDto } from './discord-message.dto';
import { DISCORD_LIMITS, normaliseDiscordMessage } from './discord-message.normaliser';

const pipe = createValidationPipe();

/** The app's own ValidationPipe: the field errors a client would get, or the validated message. */
async function validate(body: unknown): Promise<{ errors: FieldError[]; message?: RenderDiscordMessageDto }> {
  try {
    return { errors: [], message: (await pipe.transform(body, { type: 'body', metatype: RenderDiscordMessageDto })) as RenderDiscordMessageDto };
  } catch (error) {
    if (!(error instanceof BadRequestException)) throw error;
    return { errors: (error.getResponse() as { errors: FieldError[] }).errors };
  }
}

const author = { name: 'Ada' };

describe('render body validation: required nested objects', () => {
  it.each([
    ['no body at all', undefined, 'author'],
    ['an empty body', {}, 'author'],
    ['author null', { author: null }, 'author'],
    ['author a string', { author: 'Ada' }, 'author'],
    ['author a list', { author: [{ name: 'Ada' }] }, 'author'],
    ['a reaction without emoji', { author, reactions: [{ count: 1 }] }, 'reactions[0].emoji'],
    ['a reaction whose emoji is not an object', { author, reactions: [{ emoji: '👍', count: 1 }] }, 'reactions[0].emoji'],
    ['an embed that is not an object', { author, embeds: ['title'] }, 'embeds'],
    ['an embed author that is a list', { author, embeds: [{ author: [] }] }, 'embeds[0].author'],
    ['a reply that is a number', { author, reply: 3 }, 'reply'],
  ])('answers 400 naming the field for %s', async (_case, body, field) => {
    const { errors } = await validate(body);
    expect(errors.map((error) => error.field)).toContain(field);
  });

  it('says what is wrong with a missing author', async () => {
    const { errors } = await validate({});
    expect(errors).toContainEqual({ field: 'author', messages: expect.arrayContaining(['author is required']) });
  });

  it('accepts a message with author and a reaction with emoji', async () => {
    const { errors } = await validate({ author, reactions: [{ emoji: { name: '👍' }, count: 1 }] });
    expect(errors).toEqual([]);
  });
});

describe('render content: validation and the cut agree (code points, as Discord counts)', () => {
  const emoji = '😀'; // one code point, two UTF-16 units
  const limit = DISCORD_LIMITS.content;

  it(`accepts ${limit} emoji and renders all ${limit} of them`, async () => {
    const { errors, message } = await validate({ author, content: emoji.repeat(limit) });
    expect(errors).toEqual([]);
    const normalised = normaliseDiscordMessage(message!, { now: new Date() });
    expect([...normalised.content]).toHaveLength(limit);
    expect(normalised.content).toBe(emoji.repeat(limit));
  });

  it(`refuses ${limit + 1} emoji, naming content and counting in characters`, async () => {
    const { errors } = await validate({ author, content: emoji.repeat(limit + 1) });
    expect(errors).toEqual([{ field: 'content', messages: [`content must be at most ${limit} characters (got ${limit + 1})`] }]);
  });

  it('counts a variation selector as the character it is, as Discord does', async () => {
    const heart = '❤️'; // U+2764 U+FE0F: two code points
    expect((await validate({ author, content: heart.repeat(limit / 2) })).errors).toEqual([]);
    expect((await validate({ author, content: heart.repeat(limit / 2) + 'x' })).errors.map((error) => error.field)).toEqual(['content']);
  });

  it('cuts what internal callers hand in by the same count, never splitting an emoji', () => {
    const normalised = normaliseDiscordMessage({ author, content: 'a' + emoji.repeat(limit) }, { now: new Date() });
    expect(normalised.content).toBe('a' + emoji.repeat(limit - 1));
  });
});
