// One Discord message, laid out like the client's "cozy" dark theme.
import type {
  AttachmentView,
  DiscordMessageView,
  EmbedMediaView,
  EmbedView,
  MessageAuthorView,
  ReactionView,
  ReplyView,
  StickerView,
} from '../../../src/render/discord-message.view';
import { type Child, h, icon, image, isInlineImage, safeColor } from './dom';
import { formatShortDateTime } from './intl';
import { isEmojiOnly, type MarkdownContext, renderMarkdown } from './render-markdown';

const IMAGE_MAX = { width: 550, height: 350 };
const EMBED_IMAGE_MAX = { width: 400, height: 300 };
const THUMBNAIL_MAX = { width: 80, height: 80 };

function avatar(author: MessageAuthorView, className: string): HTMLElement {
  if (isInlineImage(author.avatar)) return image(author.avatar, className);
  // Discord's default avatar is a blurple disc; we put the name's first letter on it.
  const initial = Array.from(author.name.trim())[0] ?? '?';
  return h('div', `${className} avatar-placeholder`, initial.toUpperCase());
}

function authorName(author: MessageAuthorView, className: string): HTMLElement {
  const name = h('span', className, author.name);
  const color = safeColor(author.color);
  if (color) name.style.setProperty('color', color);
  return name;
}

function botTag(): HTMLElement {
  return h('span', 'bot-tag', 'BOT');
}

/** Scales (width, height) down to fit `max`, keeping the aspect ratio; null when the size is unknown. */
function fit(width: number | null, height: number | null, max: { width: number; height: number }): { width: number; height: number } | null {
  if (!width || !height || width <= 0 || height <= 0) return null;
  const scale = Math.min(1, max.width / width, max.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

// A framed landscape (hills and a sun): the client's "image failed to load" glyph.
const PICTURE_ICON = [
  { d: 'M4 4.5h16a1.5 1.5 0 0 1 1.5 1.5v12a1.5 1.5 0 0 1-1.5 1.5H4A1.5 1.5 0 0 1 2.5 18V6A1.5 1.5 0 0 1 4 4.5Z', fill: 'none', stroke: '#80848e', strokeWidth: 1.5 },
  { d: 'M4.5 17.5 9.5 11l3.5 4.2 2.5-3 4 5.3Z', fill: '#80848e' },
  { d: 'M16 9.5a1.75 1.75 0 1 0 0-3.5 1.75 1.75 0 0 0 0 3.5Z', fill: '#80848e' },
];

/** A picture at its fitted size, or a same-sized grey card when the picture is missing. */
function picture(src: string | null, width: number | null, height: number | null, max: { width: number; height: number }, className: string): HTMLElement {
  const size = fit(width, height, max);
  if (!isInlineImage(src)) {
    const placeholder = h('div', `${className} image-placeholder`, icon('image-placeholder-icon', '0 0 24 24', PICTURE_ICON));
    placeholder.style.setProperty('width', `${size?.width ?? Math.min(200, max.width)}px`);
    placeholder.style.setProperty('height', `${size?.height ?? Math.min(150, max.height)}px`);
    return placeholder;
  }
  const element = image(src, className);
  if (size) {
    element.width = size.width;
    element.height = size.height;
  } else {
    element.style.setProperty('max-width', `${max.width}px`);
    element.style.setProperty('max-height', `${max.height}px`);
  }
  return element;
}

function replyLine(reply: ReplyView, view: DiscordMessageView): HTMLElement {
  const line = h('div', 'reply');
  if (!reply.author) {
    line.append(h('div', 'reply-avatar reply-deleted-icon'), h('span', 'reply-content reply-missing', 'Original message was deleted'));
    return line;
  }
  line.append(avatar(reply.author, 'reply-avatar'));
  if (reply.author.bot) line.append(botTag());
  // The client prefixes the replied-to author with "@".
  line.append(authorName({ ...reply.author, name: `@${reply.author.name}` }, 'reply-name'));
  const preview = h('span', 'reply-content');
  if (reply.content.trim() !== '') {
    const context: MarkdownContext = { view, jumbo: false, inlineOnly: true };
    preview.append(...renderMarkdown(reply.content, context));
  } else if (reply.hasAttachments) {
    preview.classList.add('reply-missing');
    preview.append('Click to see attachment');
  }
  line.append(preview);
  return line;
}

function header(view: DiscordMessageView): HTMLElement {
  const children: Child[] = [authorName(view.author, 'username')];
  if (view.author.bot) children.push(botTag());
  children.push(h('span', 'timestamp', formatShortDateTime(view.timestamp, view.locale, view.timeZone)));
  return h('h3', 'header', ...children);
}

function content(view: DiscordMessageView): HTMLElement | null {
  const edited = view.editedTimestamp ? h('span', 'edited', '(edited)') : null;
  if (view.content.trim() === '') return edited ? h('div', 'content', edited) : null;
  const context: MarkdownContext = { view, jumbo: isEmojiOnly(view.content), inlineOnly: false };
  return h('div', 'content', ...renderMarkdown(view.content, context), edited);
}

const FILE_ICON = [
  { d: 'M4 3a3 3 0 0 1 3-3h11l8 8v21a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V3Z', fill: '#5865f2' },
  { d: 'M18 0v5a3 3 0 0 0 3 3h5L18 0Z', fill: '#8e98f4' },
  { d: 'M9 16h12v2H9zm0 4h12v2H9zm0 4h8v2H9z', fill: '#ffffff' },
];

function formatSize(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB'];
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(2)} ${units[unit]}`;
}

function fileCard(attachment: AttachmentView): HTMLElement {
  return h(
    'div',
    'file-card',
    icon('file-icon', '0 0 30 32', FILE_ICON),
    h('div', 'file-meta', h('span', 'file-name', attachment.filename), h('span', 'file-size', formatSize(attachment.size))),
  );
}

function attachments(list: AttachmentView[]): HTMLElement | null {
  if (list.length === 0) return null;
  const images = list.filter((attachment) => attachment.kind === 'image');
  const files = list.filter((attachment) => attachment.kind === 'file');
  const container = h('div', 'attachments');
  if (images.length > 0) {
    // One picture is shown whole; several share a mosaic, as the client does.
    const mosaic = h('div', images.length === 1 ? 'media single' : 'media mosaic');
    const max = images.length === 1 ? IMAGE_MAX : { width: 270, height: 270 };
    for (const attachment of images) {
      const item = picture(attachment.image, attachment.width, attachment.height, max, 'attachment-image');
      const wrapper = h('div', attachment.spoiler ? 'media-item spoiler-media' : 'media-item', item);
      if (attachment.spoiler) wrapper.append(h('span', 'spoiler-label', 'SPOILER'));
      mosaic.append(wrapper);
    }
    container.append(mosaic);
  }
  for (const file of files) container.append(fileCard(file));
  return container;
}

function embedIcon(icon: string | null | undefined, className: string): HTMLElement | null {
  if (icon === undefined) return null;
  if (isInlineImage(icon)) return image(icon, className);
  return h('div', `${className} icon-placeholder`);
}

function embedMedia(media: EmbedMediaView, max: { width: number; height: number }, className: string): HTMLElement {
  return picture(media.image, media.width, media.height, max, className);
}

/**
 * Fields flow in a 12-column grid: a non-inline field takes a row; consecutive inline fields share a row, three
 * to a row (two beside a thumbnail), as the client lays them out.
 */
function embedFields(embed: EmbedView, view: DiscordMessageView): HTMLElement | null {
  if (embed.fields.length === 0) return null;
  const perRow = embed.thumbnail ? 2 : 3;
  const grid = h('div', 'embed-fields');
  let index = 0;
  while (index < embed.fields.length) {
    const run: typeof embed.fields = [];
    while (index < embed.fields.length && embed.fields[index].inline && run.length < perRow) run.push(embed.fields[index++]);
    if (run.length === 0) run.push(embed.fields[index++]);
    const span = 12 / run.length;
    run.forEach((field, position) => {
      const context: MarkdownContext = { view, jumbo: false, inlineOnly: false };
      const cell = h(
        'div',
        'embed-field',
        h('div', 'embed-field-name', ...renderMarkdown(field.name, { ...context, inlineOnly: true })),
        h('div', 'embed-field-value', ...renderMarkdown(field.value, context)),
      );
      cell.style.setProperty('grid-column', `${1 + position * span} / ${1 + (position + 1) * span}`);
      grid.append(cell);
    });
  }
  return grid;
}

function embed(embedView: EmbedView, view: DiscordMessageView): HTMLElement {
  const element = h('article', 'embed');
  const color = safeColor(embedView.color);
  if (color) element.style.setProperty('border-left-color', color);
  const body = h('div', 'embed-body');
  const markdown: MarkdownContext = { view, jumbo: false, inlineOnly: false };
  if (embedView.provider) body.append(h('div', 'embed-provider', embedView.provider));
  if (embedView.author) {
    body.append(h('div', 'embed-author', embedIcon(embedView.author.icon, 'embed-author-icon'), h('span', 'embed-author-name', embedView.author.name)));
  }
  if (embedView.title) {
    body.append(h('div', embedView.titleIsLink ? 'embed-title link' : 'embed-title', ...renderMarkdown(embedView.title, { ...markdown, inlineOnly: true })));
  }
  if (embedView.description) body.append(h('div', 'embed-description', ...renderMarkdown(embedView.description, markdown)));
  const fields = embedFields(embedView, view);
  if (fields) body.append(fields);
  if (embedView.image) body.append(h('div', 'embed-image', embedMedia(embedView.image, EMBED_IMAGE_MAX, 'embed-image-picture')));
  if (embedView.footer || embedView.timestamp) {
    const parts: Child[] = [];
    if (embedView.footer) parts.push(embedIcon(embedView.footer.icon, 'embed-footer-icon'));
    const footerText = [embedView.footer?.text, embedView.timestamp ? formatShortDateTime(embedView.timestamp, view.locale, view.timeZone) : null]
      .filter((part): part is string => !!part)
      .join(' • ');
    parts.push(h('span', 'embed-footer-text', footerText));
    body.append(h('div', 'embed-footer', ...parts));
  }
  element.append(body);
  if (embedView.thumbnail) element.append(h('div', 'embed-thumbnail', embedMedia(embedView.thumbnail, THUMBNAIL_MAX, 'embed-thumbnail-picture')));
  return element;
}

function embeds(list: EmbedView[], view: DiscordMessageView): HTMLElement | null {
  if (list.length === 0) return null;
  return h('div', 'embeds', ...list.map((item) => embed(item, view)));
}

function reactionEmoji(reaction: ReactionView): HTMLElement {
  if (reaction.image === undefined) return h('span', 'emoji reaction-emoji', reaction.name);
  if (isInlineImage(reaction.image)) return image(reaction.image, 'custom-emoji reaction-emoji', `:${reaction.name}:`);
  return h('span', 'emoji-missing reaction-emoji', `:${reaction.name}:`);
}

function reactions(list: ReactionView[]): HTMLElement | null {
  if (list.length === 0) return null;
  return h(
    'div',
    'reactions',
    ...list.map((reaction) =>
      h('div', reaction.me ? 'reaction reaction-me' : 'reaction', reactionEmoji(reaction), h('span', 'reaction-count', String(reaction.count))),
    ),
  );
}

function stickers(list: StickerView[]): HTMLElement | null {
  if (list.length === 0) return null;
  return h(
    'div',
    'stickers',
    ...list.map((sticker) =>
      isInlineImage(sticker.image)
        ? image(sticker.image, 'sticker', sticker.name)
        : h('div', 'sticker sticker-placeholder', h('span', 'sticker-name', sticker.name)),
    ),
  );
}

export function renderMessage(view: DiscordMessageView): HTMLElement {
  const message = h('article', 'message');
  message.style.setProperty('width', `${view.width}px`);
  if (view.reply) message.append(replyLine(view.reply, view));
  const body = h(
    'div',
    'message-body',
    avatar(view.author, 'avatar'),
    header(view),
    content(view),
    attachments(view.attachments),
    embeds(view.embeds, view),
    stickers(view.stickers),
    reactions(view.reactions),
  );
  message.append(body);
  return message;
}
