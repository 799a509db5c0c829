import type { APIEmbed } from 'discord-api-types/v10';

/**
 * Discord's documented message limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
 * Checked at the door so a client gets a 400 naming the field instead of a notification that later fails with 50035.
 */
export const DISCORD_LIMITS = {
  content: 2000,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  /** Sum of every title, description, field name/value, footer text and author name over all embeds of a message. */
  embedsTotal: 6000,
} as const;

/**
 * Characters as Discord counts them: code points, so an emoji is one character, not two UTF-16 units (Discord's API
 * measures with Python's len(); discord/discord-api-docs#1315). The one definition of length for every Discord text
 * limit Herald checks or applies.
 */
export function discordLength(text: string | undefined | null): number {
  if (typeof text !== 'string') return 0;
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * `text` cut to at most `limit` characters as `discordLength` counts them, `ending` included (`'…'` where the reader
 * should see that text is missing). The cut falls between graphemes, so it never leaves half of what a reader sees as
 * one character: a surrogate pair, an emoji joined with ZWJ or given a skin tone, a flag, a letter and its combining
 * marks. Text within `limit` is returned as it is, so what passed validation at `limit` is never cut. The one cut for
 * every Discord text limit Herald applies.
 */
export function cutToDiscordLength(text: string, limit: number, ending = ''): string {
  // A string's UTF-16 length is never below its code point count: within the limit in units means within it.
  if (text.length <= limit || discordLength(text) <= limit) return text;
  const room = limit - discordLength(ending);
  let kept = '';
  let length = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = discordLength(segment);
    if (length + size > room) break;
    kept += segment;
    length += size;
  }
  return kept + ending;
}

/** An embed as far as it was validated: any field may still hold any value. */
type CountedEmbed = Pick<APIEmbed, 'title' | 'description'> & { fields?: unknown; footer?: unknown; author?: unknown };

/** The characters an embed contributes to Discord's 6000-character total. Tolerates half-validated input. */
export function embedCharacters(embed: CountedEmbed | null | undefined): number {
  if (!embed || typeof embed !== 'object') return 0;
  let total = discordLength(embed.title) + discordLength(embed.description);
  if (Array.isArray(embed.fields)) {
    for (const field of embed.fields as { name?: unknown; value?: unknown }[]) {
      if (!field || typeof field !== 'object') continue;
      total += discordLength(asText(field.name)) + discordLength(asText(field.value));
    }
  }
  total += discordLength(asText(pick(embed.footer, 'text')));
  total += discordLength(asText(pick(embed.author, 'name')));
  return total;
}

export function embedsCharacters(embeds: unknown): number {
  if (!Array.isArray(embeds)) return 0;
  return (embeds as CountedEmbed[]).reduce((sum, embed) => sum + embedCharacters(embed), 0);
}

function pick(value: unknown, key: string): unknown {
  return value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

function asText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
