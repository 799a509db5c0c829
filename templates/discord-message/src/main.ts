// Entry point of the discord-message template: the service calls window.herald.render(view) in a warm page.
import type { DiscordConversationView, DiscordMessageView, RenderedSize } from '../../../src/render/discord-message.view';
import { renderMessage } from './message';
import { beginRender, h } from './dom';
import { formatSeparatorDate } from './intl';

/**
 * Waits until every picture has loaded, so the screenshot never catches a missing one. Pictures are marked
 * decoding="sync", so the paint that the screenshot triggers decodes them; awaiting img.decode() as well would cost
 * an extra task hop (~2 ms) per render.
 */
async function loadImages(root: HTMLElement): Promise<void> {
  const pending = Array.from(root.querySelectorAll('img')).filter((element) => !(element.complete && element.naturalWidth > 0));
  await Promise.all(
    pending.map(
      (element) =>
        new Promise<void>((resolve) => {
          element.addEventListener('load', () => resolve(), { once: true });
          element.addEventListener(
            'error',
            () => {
              // A corrupt picture becomes the same grey card as a failed fetch.
              element.classList.add('broken-image');
              element.removeAttribute('src');
              resolve();
            },
            { once: true },
          );
        }),
    ),
  );
}

/** The box that is screenshotted: the theme's colours and the width the caller asked for. */
function frame(className: string, width: number, theme: string): HTMLElement {
  const box = h('div', `${className} theme-${theme === 'light' ? 'light' : 'dark'}`);
  box.style.setProperty('width', `${width}px`);
  return box;
}

/** Messages as the client lists them: date separators, the "new" line, grouped messages without a header. */
function renderConversation(view: DiscordConversationView): HTMLElement {
  const box = frame('conversation', view.width, view.theme);
  for (const item of view.messages) {
    const message: DiscordMessageView = { ...item, width: view.width, theme: view.theme, locale: view.locale, timeZone: view.timeZone };
    if (item.dateSeparator || item.newMessages) {
      const divider = h('div', item.newMessages ? 'divider divider-new' : 'divider');
      if (item.dateSeparator) divider.append(h('span', 'divider-date', formatSeparatorDate(item.timestamp, view.locale, view.timeZone)));
      if (item.newMessages) divider.append(h('span', 'divider-new-tag', 'NEW'));
      box.append(divider);
    }
    box.append(renderMessage(message, item.grouped));
  }
  return box;
}

async function render(view: DiscordMessageView | DiscordConversationView): Promise<RenderedSize> {
  const root = document.getElementById('root');
  if (!root) throw new Error('template root missing');
  beginRender();
  let message: HTMLElement;
  if ('kind' in view && view.kind === 'conversation') {
    message = renderConversation(view);
  } else {
    const single = view as DiscordMessageView;
    message = frame('single', single.width, single.theme);
    message.append(renderMessage(single));
  }
  root.replaceChildren(message);
  await loadImages(message);
  await document.fonts.ready;
  const box = message.getBoundingClientRect();
  return { width: Math.ceil(box.width), height: Math.ceil(box.height) };
}

/** Requests the page tried and its Content-Security-Policy refused; tests read it to prove the page stays offline. */
const blockedRequests: string[] = [];
document.addEventListener('securitypolicyviolation', (event) => blockedRequests.push(event.blockedURI || event.violatedDirective));

/** A render touching every code path once (fonts, emoji font, highlighter, JIT) so the first real one is fast. */
async function warmUp(): Promise<void> {
  await render({
    width: 640,
    theme: 'dark',
    locale: 'en-US',
    timeZone: 'UTC',
    author: { name: 'Herald', avatar: null, defaultAvatar: 0, color: '#5865f2', bot: true, verified: true },
    content: '# Warm\n**b** *i* __u__ ~~s~~ ||s|| `c` 😀 <t:0:R>\n- a\n1. b\n> q\n```ts\nconst a = 1;\n```\n-# end',
    timestamp: '2024-01-01T00:00:00.000Z',
    timestampDay: 'today',
    editedTimestamp: '2024-01-01T00:00:00.000Z',
    reply: { author: { name: 'r', avatar: null, defaultAvatar: 1, color: null, bot: false, verified: false }, content: 'r', hasAttachments: false, mentionsAuthor: true },
    mentions: { users: {}, roles: {}, channels: {} },
    emojis: {},
    attachments: [{ filename: 'f.txt', size: 1, kind: 'file', image: null, badge: null, fileType: 'document', width: null, height: null, spoiler: false }],
    embeds: [
      {
        kind: 'rich',
        color: null,
        provider: null,
        author: { name: 'a' },
        title: 't',
        titleIsLink: false,
        description: 'd',
        fields: [{ name: 'n', value: 'v', inline: true }],
        thumbnail: null,
        image: null,
        footer: { text: 'f' },
        timestamp: null,
      },
    ],
    reactions: [{ name: '👍', count: 1, me: false }],
    stickers: [],
    now: '2024-01-01T00:00:00.000Z',
  });
  document.getElementById('root')?.replaceChildren();
}

declare global {
  interface Window {
    herald: {
      template: string;
      render: (view: DiscordMessageView | DiscordConversationView) => Promise<RenderedSize>;
      warmUp: () => Promise<void>;
      blockedRequests: string[];
    };
  }
}

window.herald = { template: 'discord-message', render, warmUp, blockedRequests };
