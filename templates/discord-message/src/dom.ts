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

export function image(src: string, className: string, alt = ''): HTMLImageElement {
  const element = h('img', className);
  element.alt = alt;
  element.decoding = 'sync';
  element.draggable = false;
  element.src = src;
  return element;
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
