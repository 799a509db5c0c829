/**
 * The contract between a built template page and TemplateRenderer: `window.herald.render(input)` draws the input at
 * the page's top left and resolves to the size of what it drew, in CSS pixels.
 */
export interface RenderedSize {
  width: number;
  height: number;
}
