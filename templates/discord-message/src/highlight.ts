// Code block highlighting. highlight.js builds a token tree; we turn that tree into DOM nodes ourselves, so code
// text reaches the page through text nodes only (no innerHTML even for highlight.js's escaped output).
import hljs from 'highlight.js/lib/common';

interface ScopeNode {
  scope?: string;
  children: (string | ScopeNode)[];
}

function isScopeNode(value: unknown): value is ScopeNode {
  return typeof value === 'object' && value !== null && Array.isArray((value as ScopeNode).children);
}

/** highlight.js's own scope → class mapping: "title.function" → "hljs-title function_", "language:xml" → "language-xml". */
function scopeClass(scope: string): string {
  if (scope.startsWith('language:')) return scope.replace('language:', 'language-');
  const [head, ...rest] = scope.split('.');
  return [`hljs-${head}`, ...rest.map((part, index) => `${part}${'_'.repeat(index + 1)}`)].join(' ');
}

function toDom(node: string | ScopeNode, parent: Node): void {
  if (typeof node === 'string') {
    parent.appendChild(document.createTextNode(node));
    return;
  }
  let target: Node = parent;
  if (node.scope) {
    const span = document.createElement('span');
    span.className = scopeClass(node.scope);
    parent.appendChild(span);
    target = span;
  }
  for (const child of node.children) toDom(child, target);
}

/**
 * Discord's `ansi` code blocks: SGR sequences (`ESC[…m`) colour the text after them. Discord honours only 0 (reset),
 * 1 (bold), 4 (underline), 30–37 (text) and 40–47 (background), in its own palette (the classes in style.css); other
 * codes change nothing, and no escape sequence is ever drawn. Terminal libraries (ansi_up, anser) know 256 colours
 * and bright codes Discord ignores, so this small reader is Discord's subset and no more.
 */
const ESCAPE_SEQUENCE = /\u001b\[([0-9;]*)([A-Za-z])/g;

interface AnsiState {
  bold: boolean;
  underline: boolean;
  fg: number | null;
  bg: number | null;
}

function applySgr(state: AnsiState, parameters: string): void {
  const codes = parameters === '' ? [0] : parameters.split(';').map((code) => Number(code || '0'));
  for (const code of codes) {
    if (code === 0) Object.assign(state, { bold: false, underline: false, fg: null, bg: null });
    else if (code === 1) state.bold = true;
    else if (code === 4) state.underline = true;
    else if (code >= 30 && code <= 37) state.fg = code;
    else if (code >= 40 && code <= 47) state.bg = code;
  }
}

function ansiInto(code: HTMLElement, source: string): void {
  const state: AnsiState = { bold: false, underline: false, fg: null, bg: null };
  const appendText = (raw: string) => {
    // A lone ESC (no sequence after it) is not drawn either.
    const text = raw.replaceAll('\u001b', '');
    if (text === '') return;
    const classes = [state.bold && 'ansi-bold', state.underline && 'ansi-underline', state.fg && `ansi-${state.fg}`, state.bg && `ansi-${state.bg}`];
    const names = classes.filter((name): name is string => typeof name === 'string');
    if (names.length === 0) {
      code.appendChild(document.createTextNode(text));
      return;
    }
    const span = document.createElement('span');
    span.className = names.join(' ');
    span.textContent = text;
    code.appendChild(span);
  };
  let position = 0;
  for (const match of source.matchAll(ESCAPE_SEQUENCE)) {
    appendText(source.slice(position, match.index));
    if (match[2] === 'm') applySgr(state, match[1]);
    position = match.index + match[0].length;
  }
  appendText(source.slice(position));
}

/** Fills `code` with the highlighted source; unknown languages (and Discord never guesses one) stay plain text. */
export function highlightInto(code: HTMLElement, source: string, language: string): void {
  if (language === 'ansi') {
    ansiInto(code, source);
    return;
  }
  const known = language !== '' && hljs.getLanguage(language) !== undefined;
  if (known) {
    const result = hljs.highlight(source, { language, ignoreIllegals: true });
    const root = (result._emitter as unknown as { root?: unknown }).root;
    if (isScopeNode(root)) {
      code.classList.add('hljs');
      toDom(root, code);
      return;
    }
  }
  code.textContent = source;
}
