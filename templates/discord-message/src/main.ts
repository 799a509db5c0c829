// Entry point of the discord-message template: the service calls window.herald.render(view) in a warm page.
import type { DiscordMessageView, RenderedSize } from '../../../src/render/discord-message.view';
import { renderMessage } from './message';

/** Waits until every picture is decoded, so the screenshot never catches a half-drawn image. */
async function decodeImages(root: HTMLElement): Promise<void> {
  const images = Array.from(root.querySelectorAll('img'));
  await Promise.all(
    images.map((element) =>
      element.decode().catch(() => {
        // A corrupt image becomes the same grey card as a failed fetch.
        element.classList.add('broken-image');
        element.removeAttribute('src');
      }),
    ),
  );
}

async function render(view: DiscordMessageView): Promise<RenderedSize> {
  const root = document.getElementById('root');
  if (!root) throw new Error('template root missing');
  const message = renderMessage(view);
  root.replaceChildren(message);
  await decodeImages(message);
  await document.fonts.ready;
  const box = message.getBoundingClientRect();
  return { width: Math.ceil(box.width), height: Math.ceil(box.height) };
}

declare global {
  interface Window {
    herald: { template: string; render: (view: DiscordMessageView) => Promise<RenderedSize> };
  }
}

window.herald = { template: 'discord-message', render };
