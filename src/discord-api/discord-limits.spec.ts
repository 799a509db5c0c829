import { cutToDiscordLength, discordLength } from './discord-limits';

describe('cutToDiscordLength', () => {
  it('returns text within the limit as it is, counting code points as Discord does', () => {
    expect(cutToDiscordLength('abc', 3, '…')).toBe('abc');
    // Four emoji are eight UTF-16 units but four characters to Discord.
    expect(cutToDiscordLength('🚀🚀🚀🚀', 4, '…')).toBe('🚀🚀🚀🚀');
  });

  it('counts the ending within the limit and adds it only when it cut', () => {
    expect(cutToDiscordLength('abcdef', 4, '…')).toBe('abc…');
    expect(cutToDiscordLength('abcdef', 4)).toBe('abcd');
    expect(discordLength(cutToDiscordLength('x'.repeat(3000), 2000, '…'))).toBe(2000);
  });

  it.each([
    ['a surrogate pair', 'ab🚀🚀c', 4, 'ab🚀…'],
    ['an emoji joined with ZWJ (a family: five code points)', 'ab👨‍👩‍👧x', 5, 'ab…'],
    ['an emoji with a skin tone (two code points)', 'abc👍🏽', 4, 'abc…'],
    ['a flag (two regional indicators)', 'ab🇺🇦🇺🇦', 4, 'ab…'],
    ['a letter and its combining marks', 'abe\u0301\u0323', 4, 'ab…'],
    ['a keycap (digit, variation selector, enclosing keycap)', 'ab1\uFE0F\u20E3', 4, 'ab…'],
  ])('never cuts inside %s', (_what, text, limit, expected) => {
    const cut = cutToDiscordLength(text, limit, '…');
    expect(cut).toBe(expected);
    expect(discordLength(cut)).toBeLessThanOrEqual(limit);
  });

  it('keeps a grapheme that fits whole, and cuts without an ending between graphemes too', () => {
    expect(cutToDiscordLength('ab👨‍👩‍👧xy', 8, '…')).toBe('ab👨‍👩‍👧…');
    expect(cutToDiscordLength('ab🇺🇦🇺🇦', 5)).toBe('ab🇺🇦');
    expect(cutToDiscordLength('ab🇺🇦🇺🇦', 3)).toBe('ab');
  });
});
