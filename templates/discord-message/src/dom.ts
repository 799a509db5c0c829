// DOM building blocks. Text only ever enters the page through textContent, never as markup.

export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

const HEX_COLOR = /^#[0-9a-f]{6}$/i;

/** A colour from the input, or null: only `#rrggbb` passes, so nothing user-controlled reaches CSS as syntax. */
export function safeColor(color: string | null | undefined): string | null {
  return color && HEX_COLOR.test(color) ? color.toLowerCase() : null;
}

export function withAlpha(hex: string, alpha: number): string {
  const value = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255}, ${alpha})`;
}

const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|avif);base64,[A-Za-z0-9+/=]+$/;

/** Only inline raster images are drawn; anything else (a URL, SVG, script) is treated as a failed fetch. */
export function isInlineImage(src: string | null | undefined): src is string {
  return typeof src === 'string' && DATA_IMAGE.test(src);
}

/**
 * Pictures stay decoded between renders. A new <img> for a data: URL is a new image resource, decoded again at the
 * next paint (~2 ms of a render's CPU for an avatar and an attachment); the element that already drew the picture
 * keeps its decoded bitmap, so a later render that shows the same picture (the same author's avatar, the same emoji)
 * moves that element into its tree instead. Each element is handed out once per render; a second use in the same
 * render gets a fresh element. The most recently used pictures are kept, at most KEPT_PICTURES of them and
 * KEPT_CHARACTERS of data: URL (a few large attachments do not crowd out every avatar, nor grow the page without bound).
 */
const KEPT_PICTURES = 64;
const KEPT_CHARACTERS = 16 * 1024 * 1024;
const keptPictures = new Map<string, HTMLImageElement>();
let keptCharacters = 0;
const handedOut = new Set<HTMLImageElement>();
/** Attributes a reused picture keeps; everything else (size, style, alt) is set again by its new use. */
const PICTURE_ATTRIBUTES = new Set(['src', 'decoding', 'draggable']);

/** Called at the start of every render: pictures drawn by the previous render may be reused. */
export function beginRender(): void {
  handedOut.clear();
}

export function image(src: string, className: string, alt = ''): HTMLImageElement {
  const kept = keptPictures.get(src);
  if (kept && !handedOut.has(kept)) {
    forget(src);
    if (kept.complete && kept.naturalWidth > 0) {
      for (const name of kept.getAttributeNames()) if (!PICTURE_ATTRIBUTES.has(name)) kept.removeAttribute(name);
      kept.className = className;
      kept.alt = alt;
      return keep(src, kept);
    }
  }
  const element = h('img', className);
  element.alt = alt;
  element.decoding = 'sync';
  element.draggable = false;
  element.src = src;
  return kept && handedOut.has(kept) ? element : keep(src, element);
}

function keep(src: string, element: HTMLImageElement): HTMLImageElement {
  keptPictures.set(src, element);
  keptCharacters += src.length;
  handedOut.add(element);
  // Oldest first; the picture just kept is never dropped while it is the only one.
  while ((keptPictures.size > KEPT_PICTURES || keptCharacters > KEPT_CHARACTERS) && keptPictures.size > 1) {
    forget(keptPictures.keys().next().value as string);
  }
  return element;
}

function forget(src: string): void {
  if (keptPictures.delete(src)) keptCharacters -= src.length;
}

const SVG = 'http://www.w3.org/2000/svg';

/** Small static icons (no user input), drawn as SVG paths. */
export interface IconPath {
  d: string;
  fill: string;
  stroke?: string;
  strokeWidth?: number;
}

export function icon(className: string, viewBox: string, paths: IconPath[]): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', className);
  svg.setAttribute('viewBox', viewBox);
  svg.setAttribute('aria-hidden', 'true');
  for (const { d, fill, stroke, strokeWidth } of paths) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', fill);
    if (stroke) {
      path.setAttribute('stroke', stroke);
      path.setAttribute('stroke-width', String(strokeWidth ?? 1));
      path.setAttribute('stroke-linejoin', 'round');
    }
    svg.appendChild(path);
  }
  return svg;
}
