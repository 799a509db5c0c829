// One Discord message, laid out like the client's "cozy" layout (dark or light theme).
import type {
  AttachmentView,
  DiscordMessageView,
  EmbedMediaView,
  EmbedView,
  MediaBadge,
  MessageAuthorView,
  ReactionView,
  ReplyView,
  StickerView,
} from '../../../src/render/discord-message.view';
import { type Child, append, h, icon, image, isInlineImage, safeColor } from './dom';
import { CLYDE, DEFAULT_AVATAR_COLORS, DOWNLOAD, PLAY, VERIFIED_CHECK, fileIcon, pictureIcon } from './icons';
import { formatFileSize, formatMessageTime } from './intl';
import { isEmojiOnly, type MarkdownContext, renderMarkdown } from './render-markdown';

const IMAGE_MAX = { width: 550, height: 350 };
const EMBED_IMAGE_MAX = { width: 400, height: 300 };
const THUMBNAIL_MAX = { width: 80, height: 80 };
const MUTED = '#80848e';

/** Discord's default avatar: its logo on one of six colours, chosen from the user id by the service. */
function defaultAvatar(index: number, className: string): HTMLElement {
  const color = DEFAULT_AVATAR_COLORS[index] ?? DEFAULT_AVATAR_COLORS[0];
  const disc = h('div', `${className} default-avatar`, icon('default-avatar-logo', '0 0 24 24', [{ d: CLYDE, fill: '#ffffff' }]));
  disc.style.setProperty('background-color', color);
  return disc;
}

function avatar(author: MessageAuthorView, className: string): HTMLElement {
  if (isInlineImage(author.avatar)) return image(author.avatar, className);
  return defaultAvatar(author.defaultAvatar, className);
}

function authorName(author: MessageAuthorView, className: string, prefix = ''): HTMLElement {
  const name = h('span', className, `${prefix}${author.name}`);
  const color = safeColor(author.color);
  if (color) name.style.setProperty('color', color);
  return name;
}

/** Bots and apps carry the APP tag (since 2024); a verified one has the check mark in it. */
function botTag(author: MessageAuthorView): HTMLElement {
  const tag = h('span', 'bot-tag');
  if (author.verified) tag.append(icon('bot-tag-verified', '0 0 16 16', VERIFIED_CHECK));
  tag.append(h('span', 'bot-tag-text', 'APP'));
  return tag;
}

/** Scales (width, height) down to fit `max`, keeping the aspect ratio; null when the size is unknown. */
function fit(width: number | null, height: number | null, max: { width: number; height: number }): { width: number; height: number } | null {
  if (!width || !height || width <= 0 || height <= 0) return null;
  const scale = Math.min(1, max.width / width, max.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

function placeholder(className: string): HTMLElement {
  return h('div', `${className} image-placeholder`, icon('image-placeholder-icon', '0 0 24 24', pictureIcon(MUTED)));
}

/** A picture at its fitted size, or a same-sized grey card when the picture is missing. */
function picture(src: string | null, width: number | null, height: number | null, max: { width: number; height: number }, className: string): HTMLElement {
  const size = fit(width, height, max);
  if (!isInlineImage(src)) {
    const element = placeholder(className);
    element.style.setProperty('width', `${size?.width ?? Math.min(200, max.width)}px`);
    element.style.setProperty('height', `${size?.height ?? Math.min(150, max.height)}px`);
    return element;
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

/** The client's marks on a still of moving media: "GIF" in the corner, or a round play button in the middle. */
function badge(kind: MediaBadge | null | undefined): HTMLElement | null {
  if (kind === 'gif') return h('span', 'media-badge gif-badge', 'GIF');
  if (kind === 'play') return h('span', 'media-badge play-badge', icon('play-icon', '0 0 24 24', PLAY));
  return null;
}

/** A video with no still: a dark frame of its size with the play button. */
function videoFrame(width: number | null, height: number | null, max: { width: number; height: number }, className: string): HTMLElement {
  const size = fit(width, height, max) ?? fit(16, 9, { width: Math.min(400, max.width), height: max.height })!;
  const frame = h('div', `${className} video-frame`);
  frame.style.setProperty('width', `${size.width}px`);
  frame.style.setProperty('height', `${size.height}px`);
  return frame;
}

function replyLine(reply: ReplyView, view: DiscordMessageView): HTMLElement {
  const line = h('div', 'reply');
  if (!reply.author) {
    line.append(h('div', 'reply-avatar reply-deleted-icon'), h('span', 'reply-content reply-missing', 'Original message was deleted'));
    return line;
  }
  line.append(avatar(reply.author, 'reply-avatar'));
  if (reply.author.bot) line.append(botTag(reply.author));
  // The client writes "@" before the replied-to author only when the reply pings them.
  line.append(authorName(reply.author, 'reply-name', reply.mentionsAuthor ? '@' : ''));
  const preview = h('span', 'reply-content');
  if (reply.content.trim() !== '') {
    const context: MarkdownContext = { view, jumbo: false, inlineOnly: true };
    preview.append(...renderMarkdown(reply.content, context));
    line.append(preview);
  } else if (reply.hasAttachments) {
    preview.classList.add('reply-missing');
    preview.append('Click to see attachment');
    line.append(preview, icon('reply-attachment-icon', '0 0 24 24', pictureIcon('currentColor')));
  } else {
    line.append(preview);
  }
  return line;
}

function header(view: DiscordMessageView): HTMLElement {
  const children: Child[] = [authorName(view.author, 'username')];
  if (view.author.bot) children.push(botTag(view.author));
  children.push(h('span', 'timestamp', formatMessageTime(view.timestamp, view.timestampDay, view.locale, view.timeZone)));
  return h('h3', 'header', ...children);
}

function content(view: DiscordMessageView): HTMLElement | null {
  const edited = view.editedTimestamp ? h('span', 'edited', '(edited)') : null;
  if (view.content.trim() === '') return edited ? h('div', 'content', edited) : null;
  const context: MarkdownContext = { view, jumbo: isEmojiOnly(view.content), inlineOnly: false };
  return h('div', 'content', ...renderMarkdown(view.content, context), edited);
}

function fileCard(attachment: AttachmentView, locale: string): HTMLElement {
  return h(
    'div',
    'file-card',
    icon('file-icon', '0 0 30 40', fileIcon(attachment.fileType)),
    h('div', 'file-meta', h('span', 'file-name', attachment.filename), h('span', 'file-size', formatFileSize(attachment.size, locale))),
    icon('file-download', '0 0 24 24', DOWNLOAD),
  );
}

/**
 * How the client lays out 2–10 pictures: rows of equal square cells, the remainder on top (one wide cell, or two),
 * except 3 (one tall cell on the left, two stacked on the right) and 4 (2×2).
 */
export function mosaicRows(count: number): number[] {
  if (count === 2) return [2];
  if (count === 4) return [2, 2];
  const rows = Array.from({ length: Math.floor(count / 3) }, () => 3);
  if (count % 3 !== 0) rows.unshift(count % 3);
  return rows;
}

function mediaCell(attachment: AttachmentView, className: string): HTMLElement {
  const cell = h('div', attachment.spoiler ? `${className} spoiler-media` : className);
  if (isInlineImage(attachment.image)) cell.append(image(attachment.image, 'mosaic-picture'));
  else cell.append(attachment.kind === 'video' ? h('div', 'mosaic-picture video-frame') : placeholder('mosaic-picture'));
  append(cell, [badge(attachment.badge), attachment.spoiler && h('span', 'spoiler-label', 'SPOILER')]);
  return cell;
}

function singleMedia(attachment: AttachmentView): HTMLElement {
  const item =
    attachment.kind === 'video' && !isInlineImage(attachment.image)
      ? videoFrame(attachment.width, attachment.height, IMAGE_MAX, 'attachment-image')
      : picture(attachment.image, attachment.width, attachment.height, IMAGE_MAX, 'attachment-image');
  const wrapper = h('div', attachment.spoiler ? 'media-item spoiler-media' : 'media-item', item, badge(attachment.badge));
  if (attachment.spoiler) wrapper.append(h('span', 'spoiler-label', 'SPOILER'));
  return h('div', 'media single', wrapper);
}

function mosaic(list: AttachmentView[]): HTMLElement {
  if (list.length === 3) {
    return h('div', 'media mosaic mosaic-three', ...list.map((attachment, index) => mediaCell(attachment, index === 0 ? 'mosaic-cell mosaic-tall' : 'mosaic-cell')));
  }
  const grid = h('div', 'media mosaic');
  let next = 0;
  for (const size of mosaicRows(list.length)) {
    const row = h('div', `mosaic-row mosaic-row-${size}`);
    for (const attachment of list.slice(next, next + size)) row.append(mediaCell(attachment, 'mosaic-cell'));
    next += size;
    grid.append(row);
  }
  return grid;
}

function attachments(list: AttachmentView[], locale: string): HTMLElement | null {
  if (list.length === 0) return null;
  const media = list.filter((attachment) => attachment.kind !== 'file');
  const files = list.filter((attachment) => attachment.kind === 'file');
  const container = h('div', 'attachments');
  if (media.length === 1) container.append(singleMedia(media[0]));
  else if (media.length > 1) container.append(mosaic(media));
  for (const file of files) container.append(fileCard(file, locale));
  return container;
}

function embedIcon(icon: string | null | undefined, className: string): HTMLElement | null {
  if (icon === undefined) return null;
  if (isInlineImage(icon)) return image(icon, className);
  return h('div', `${className} icon-placeholder`);
}

function embedMedia(media: EmbedMediaView, max: { width: number; height: number }, className: string): HTMLElement {
  const drawn = picture(media.image, media.width, media.height, max, className);
  if (!media.badge) return drawn;
  return h('div', 'media-item embed-media', drawn, badge(media.badge));
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
  // Image links and Tenor/Giphy GIFs: the picture alone, as big as an attachment, no frame.
  if (embedView.kind === 'media' && embedView.image) return h('div', 'media single embed-bare', embedMedia(embedView.image, IMAGE_MAX, 'attachment-image'));
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
    const footerText = [embedView.footer?.text, embedView.timestamp ? formatMessageTime(embedView.timestamp, embedView.timestampDay ?? null, view.locale, view.timeZone) : null]
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

/** One message. `grouped`: it follows the same author's message in a conversation, so it has no avatar or header. */
export function renderMessage(view: DiscordMessageView, grouped = false): HTMLElement {
  const message = h('article', grouped ? 'message grouped' : 'message');
  if (view.reply) message.append(replyLine(view.reply, view));
  const body = h(
    'div',
    'message-body',
    grouped ? null : avatar(view.author, 'avatar'),
    grouped ? null : header(view),
    content(view),
    attachments(view.attachments, view.locale),
    embeds(view.embeds, view),
    stickers(view.stickers),
    reactions(view.reactions),
  );
  message.append(body);
  return message;
}
