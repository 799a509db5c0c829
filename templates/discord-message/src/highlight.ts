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

/** Fills `code` with the highlighted source; unknown languages (and Discord never guesses one) stay plain text. */
export function highlightInto(code: HTMLElement, source: string, language: string): void {
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
