// Markdown AST → DOM, styled like the Discord client.
import type { DiscordMessageView } from '../../../src/render/discord-message.view';
import { append, h, image, isInlineImage, safeColor, withAlpha } from './dom';
import { highlightInto } from './highlight';
import { dateTimeFormat, relativeTimeFormat } from './intl';
import { type ListNode, type MarkdownNode, parseMarkdown } from './markdown';

export interface MarkdownContext {
  view: DiscordMessageView;
  /** Emoji-only message: Discord draws its emoji large. */
  jumbo: boolean;
  /** Reply previews keep to one line: block syntax flattens to inline. */
  inlineOnly: boolean;
}

const BLOCK_TYPES = new Set(['codeBlock', 'blockQuote', 'heading', 'subtext', 'list']);
const JUMBO_LIMIT = 30;

function children(node: MarkdownNode): MarkdownNode[] {
  return Array.isArray(node.content) ? (node.content as MarkdownNode[]) : [];
}

function text(node: MarkdownNode): string {
  return typeof node.content === 'string' ? node.content : '';
}

/** The plain text a node stands for, used where Discord shows the source (e.g. a masked link it refuses). */
function plainText(nodes: MarkdownNode[]): string {
  return nodes.map((node) => (typeof node.content === 'string' ? node.content : plainText(children(node)))).join('');
}

/** Discord enlarges emoji when the message holds nothing but (up to 30) emoji and whitespace. */
export function isEmojiOnly(content: string): boolean {
  const nodes = parseMarkdown(content);
  let emoji = 0;
  for (const node of nodes) {
    if (node.type === 'twemoji' || node.type === 'emoji') emoji += 1;
    else if (node.type === 'br' || (node.type === 'text' && text(node).trim() === '')) continue;
    else return false;
  }
  return emoji > 0 && emoji <= JUMBO_LIMIT;
}

const GUILD_NAVIGATION: Record<string, string> = {
  customize: 'Channels & Roles',
  browse: 'Browse Channels',
  guide: 'Server Guide',
  'linked-roles': 'Linked Roles',
};

function mention(label: string, className = 'mention'): HTMLElement {
  return h('span', className, label);
}

function formatMarkdownTimestamp(seconds: number, format: string | undefined, context: MarkdownContext): string {
  const { locale, timeZone, now } = context.view;
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return String(seconds);
  const options: Record<string, Intl.DateTimeFormatOptions> = {
    t: { timeStyle: 'short' },
    T: { timeStyle: 'medium' },
    d: { dateStyle: 'short' },
    D: { dateStyle: 'long' },
    f: { dateStyle: 'long', timeStyle: 'short' },
    F: { dateStyle: 'full', timeStyle: 'short' },
    // Added in 2025; Discord's own examples read "20/04/2021, 16:20" and "20/04/2021, 16:20:30" (en-GB).
    s: { dateStyle: 'short', timeStyle: 'short' },
    S: { dateStyle: 'short', timeStyle: 'medium' },
  };
  if (format === 'R') {
    const reference = now ? new Date(now).getTime() : date.getTime();
    const deltaSeconds = Math.round((date.getTime() - reference) / 1000);
    const units: [Intl.RelativeTimeFormatUnit, number][] = [
      ['year', 31_536_000],
      ['month', 2_592_000],
      ['day', 86_400],
      ['hour', 3_600],
      ['minute', 60],
      ['second', 1],
    ];
    const [unit, size] = units.find(([, unitSeconds]) => Math.abs(deltaSeconds) >= unitSeconds) ?? ['second', 1];
    return relativeTimeFormat(locale).format(Math.round(deltaSeconds / size), unit);
  }
  return dateTimeFormat(locale, { ...options[format ?? 'f'], timeZone }).format(date);
}

function renderList(node: ListNode, context: MarkdownContext): HTMLElement {
  const list = node.ordered ? h('ol', 'md-list') : h('ul', 'md-list');
  if (node.ordered && list instanceof HTMLOListElement) {
    list.start = node.start;
    // Discord widens the number gutter with the number of digits.
    list.style.setProperty('--digits', String(String(node.start + node.items.length - 1).length));
  }
  for (const item of node.items) {
    const li = h('li');
    append(li, renderNodes(item.content, context));
    if (item.sublist) li.appendChild(renderList(item.sublist, context));
    list.appendChild(li);
  }
  return list;
}

function renderCodeBlock(node: MarkdownNode, context: MarkdownContext): HTMLElement {
  const source = text(node);
  if (context.inlineOnly) return h('code', 'inline-code', source.replace(/\n/g, ' '));
  const code = h('code', 'code-block');
  highlightInto(code, source, typeof node.lang === 'string' ? node.lang.toLowerCase() : '');
  return h('pre', null, code);
}

function renderLink(node: MarkdownNode, context: MarkdownContext): Node[] {
  const target = typeof node.target === 'string' ? node.target : '';
  const label = children(node);
  // Discord only draws http(s) masked links; anything else (javascript:, data:) stays as the text that was typed.
  if (!/^https?:\/\//i.test(target)) return [document.createTextNode(`[${plainText(label)}](${target})`)];
  // A span, not an anchor: the image has nothing to navigate to.
  return [h('span', 'link', ...renderNodes(label, context))];
}

function renderNode(node: MarkdownNode, context: MarkdownContext): Node[] {
  const { view } = context;
  switch (node.type) {
    case 'text':
    case 'escape':
      return [document.createTextNode(text(node))];
    case 'br':
    case 'newline':
      return [context.inlineOnly ? document.createTextNode(' ') : h('br')];
    case 'strong':
      return [h('strong', null, ...renderNodes(children(node), context))];
    case 'em':
      return [h('em', null, ...renderNodes(children(node), context))];
    case 'underline':
      return [h('u', null, ...renderNodes(children(node), context))];
    case 'strikethrough':
      return [h('s', null, ...renderNodes(children(node), context))];
    case 'spoiler':
      return [h('span', 'spoiler', ...renderNodes(children(node), context))];
    case 'inlineCode':
      return [h('code', 'inline-code', text(node))];
    case 'codeBlock':
      return [renderCodeBlock(node, context)];
    case 'blockQuote':
      if (context.inlineOnly) return renderNodes(children(node), context);
      return [h('div', 'blockquote', h('div', 'blockquote-bar'), h('blockquote', null, ...renderNodes(children(node), context)))];
    case 'heading': {
      if (context.inlineOnly) return renderNodes(children(node), context);
      const level = Math.min(Math.max(Number(node.level) || 1, 1), 3);
      const heading = document.createElement(`h${level}` as 'h1' | 'h2' | 'h3');
      append(heading, renderNodes(children(node), context));
      return [heading];
    }
    case 'subtext':
      if (context.inlineOnly) return renderNodes(children(node), context);
      return [h('small', 'subtext', ...renderNodes(children(node), context))];
    case 'list':
      if (context.inlineOnly) return (node as ListNode).items.flatMap((item) => renderNodes(item.content, context));
      return [renderList(node as ListNode, context)];
    case 'url':
    case 'autolink':
      return [h('span', 'link', ...renderNodes(children(node), context))];
    case 'link':
      return renderLink(node, context);
    case 'user': {
      const user = view.mentions.users[String(node.id)];
      return [mention(`@${user ? user.name : 'unknown-user'}`)];
    }
    case 'role': {
      const role = view.mentions.roles[String(node.id)];
      const element = mention(`@${role ? role.name : 'deleted-role'}`);
      const color = safeColor(role?.color);
      if (color) {
        element.classList.add('role-mention');
        element.style.setProperty('color', color);
        element.style.setProperty('background-color', withAlpha(color, 0.1));
      }
      return [element];
    }
    case 'channel': {
      const channel = view.mentions.channels[String(node.id)];
      return [mention(`#${channel ? channel.name : 'unknown'}`)];
    }
    case 'everyone':
      return [mention('@everyone')];
    case 'here':
      return [mention('@here')];
    case 'slashCommand':
      return [mention(`/${String(node.fullName ?? node.name ?? '')}`)];
    case 'guildNavigation':
      return [mention(GUILD_NAVIGATION[String(node.navigation)] ?? 'Server')];
    case 'timestamp':
      return [h('span', 'timestamp-mention', formatMarkdownTimestamp(Number(node.timestamp), node.format as string | undefined, context))];
    case 'twemoji':
      return [h('span', context.jumbo ? 'emoji jumbo' : 'emoji', String(node.name))];
    case 'emoji': {
      const src = view.emojis[String(node.id)];
      const name = `:${String(node.name)}:`;
      if (!isInlineImage(src)) return [h('span', 'emoji-missing', name)];
      return [image(src, context.jumbo ? 'custom-emoji jumbo' : 'custom-emoji', name)];
    }
    default:
      return typeof node.content === 'string' ? [document.createTextNode(node.content)] : renderNodes(children(node), context);
  }
}

function renderNodes(nodes: MarkdownNode[], context: MarkdownContext): Node[] {
  const out: Node[] = [];
  let previous: MarkdownNode | null = null;
  for (const node of nodes) {
    // A line break right after a block (code block, quote, list, heading) is the block's own end of line.
    if (node.type === 'br' && previous && BLOCK_TYPES.has(previous.type) && !context.inlineOnly) {
      previous = node;
      continue;
    }
    out.push(...renderNode(node, context));
    previous = node;
  }
  return out;
}

export function renderMarkdown(source: string, context: MarkdownContext): Node[] {
  return renderNodes(parseMarkdown(source), context);
}
