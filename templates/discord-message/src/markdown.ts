// Discord's markdown dialect: discord-markdown-parser's rules, plus the two Discord has that the package lacks
// (lists, and masked links in ordinary messages), both written as simple-markdown rules, and two of its rules
// widened to what Discord reads (timestamps' `s` and `S` styles; a keycap emoji after a word), and emoji shortcodes.
import { rules, SimpleMarkdown } from 'discord-markdown-parser';
import joypixels from 'emojibase-data/en/shortcodes/joypixels.json';

export interface MarkdownNode {
  type: string;
  [key: string]: unknown;
}

export interface ListNode extends MarkdownNode {
  type: 'list';
  ordered: boolean;
  start: number;
  items: { content: MarkdownNode[]; sublist: ListNode | null }[];
}

type Rule = (typeof rules)[string];
type State = Parameters<Rule['match']>[1];

const LIST_LINE = /^( *)([*-]|\d{1,9}\.) +(\S[^\n]*)?(?:\n|$)/;
const INDENTED_LINE = /^( +)\S[^\n]*(?:\n|$)/;

/** True when the parser stands at the start of a line, where Discord allows block syntax. */
function atLineStart(state: State): boolean {
  const previous = state.prevCapture as string[] | null | undefined;
  if (previous == null) return true;
  return previous[0].endsWith('\n');
}

function isOrdered(bullet: string): boolean {
  return bullet !== '-' && bullet !== '*';
}

/**
 * A list is a run of lines opening with `- `, `* ` or `N. ` at the same indentation and of the same kind;
 * lines indented deeper belong to the item above them (nested lists).
 */
function matchList(source: string, state: State): RegExpExecArray | null {
  if (!atLineStart(state) || state.inList) return null;
  const first = LIST_LINE.exec(source);
  if (!first || first[3] === undefined) return null;
  const baseIndent = first[1].length;
  const ordered = isOrdered(first[2]);
  let consumed = first[0].length;
  for (;;) {
    const rest = source.slice(consumed);
    const item = LIST_LINE.exec(rest);
    if (item && item[3] !== undefined && item[1].length === baseIndent && isOrdered(item[2]) === ordered) {
      consumed += item[0].length;
      continue;
    }
    const deeper = INDENTED_LINE.exec(rest);
    if (deeper && deeper[1].length > baseIndent) {
      consumed += deeper[0].length;
      continue;
    }
    break;
  }
  const capture = [source.slice(0, consumed)] as unknown as RegExpExecArray;
  capture.index = 0;
  capture.input = source;
  return capture;
}

function parseList(block: string, parse: (source: string, state: State) => MarkdownNode[], state: State): ListNode {
  const lines = block.replace(/\n$/, '').split('\n');
  const first = LIST_LINE.exec(lines[0]);
  const baseIndent = first ? first[1].length : 0;
  const ordered = first ? isOrdered(first[2]) : false;
  const start = first && ordered ? Number.parseInt(first[2], 10) : 1;
  const items: ListNode['items'] = [];
  let nested: string[] = [];

  const closeItem = () => {
    const current = items[items.length - 1];
    if (current && nested.length > 0) {
      const indent = Math.min(...nested.map((line) => line.length - line.trimStart().length));
      const source = nested.map((line) => line.slice(indent)).join('\n');
      const parsed = parse(source, { ...state, inline: true, inList: false, prevCapture: null });
      const sublist = parsed.find((node): node is ListNode => node.type === 'list') ?? null;
      if (sublist) current.sublist = sublist;
      else current.content.push({ type: 'br' }, ...parsed);
    }
    nested = [];
  };

  for (const line of lines) {
    const item = LIST_LINE.exec(line);
    if (item && item[1].length === baseIndent) {
      closeItem();
      const content = parse(item[3] ?? '', { ...state, inline: true, inList: true, prevCapture: null });
      items.push({ content, sublist: null });
    } else {
      nested.push(line);
    }
  }
  closeItem();
  return { type: 'list', ordered, start, items };
}

const list: Rule = {
  // Before headings and text so "- item" is not read as plain text.
  order: SimpleMarkdown.defaultRules.heading.order - 0.25,
  match: (source, state) => matchList(source, state),
  parse: (capture, parse, state) =>
    parseList(capture[0], parse as (source: string, state: State) => MarkdownNode[], state) as unknown as ReturnType<Rule['parse']>,
};

/**
 * The package's text rule runs on through digits, so "Step 2️⃣" took the "2" as text and left the keycap's two
 * combining characters as a broken emoji. This one also stops before a keycap (`[#*0-9]`, VS16, U+20E3).
 */
const TEXT = /^[\s\S]+?(?=[^0-9A-Za-z\s]|[#*0-9]\ufe0f?\u20e3|\n\n|\n|\w+:\S|$)/;
const text: Rule = { ...rules.text, match: (source) => TEXT.exec(source) };

/** Discord's timestamp styles: the package's seven and `s` / `S` (short date with short / medium time, 2025). */
const TIMESTAMP = /^<t:(-?\d+)(?::([RtTdDfFsS]))?>/;
const timestamp: Rule = { ...rules.timestamp, match: (source) => TIMESTAMP.exec(source) };

/**
 * `:name:` shortcodes of standard emoji, which the client draws as the emoji even where nobody typed them through its
 * picker (bots' and webhooks' messages, embeds: CI notifiers write `:white_check_mark:`). Discord's names are
 * EmojiOne's, now JoyPixels' (`:thumbsup:`, `:flag_us:`, `:slight_smile:`), from emojibase's table; an unknown name
 * (or `12:30:45`) stays text.
 */
const SHORTCODE = /^:([a-z0-9_+-]{1,64}):/;
const EMOJI_BY_NAME = new Map<string, string>();
for (const [hexcode, names] of Object.entries(joypixels as Record<string, string | string[]>)) {
  const emoji = String.fromCodePoint(...hexcode.split('-').map((hex) => Number.parseInt(hex, 16)));
  for (const name of Array.isArray(names) ? names : [names]) EMOJI_BY_NAME.set(name, emoji);
}
const shortcode: Rule = {
  order: rules.twemoji.order,
  match: (source) => {
    const match = SHORTCODE.exec(source);
    return match && EMOJI_BY_NAME.has(match[1]) ? match : null;
  },
  parse: (capture) => ({ type: 'twemoji', name: EMOJI_BY_NAME.get(capture[1]) }) as unknown as ReturnType<Rule['parse']>,
};

const messageRules = {
  ...rules,
  shortcode,
  text,
  timestamp,
  // Discord renders masked links in ordinary messages since 2023; the package allows them only in its "extended" set.
  link: SimpleMarkdown.defaultRules.link,
  list,
} as Record<string, Rule>;

const parser = SimpleMarkdown.parserFor(messageRules);

export function parseMarkdown(source: string): MarkdownNode[] {
  return parser(source, { inline: true }) as MarkdownNode[];
}
