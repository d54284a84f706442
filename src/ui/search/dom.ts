// Small DOM helpers for the search page: element builder, re-rendering a container without losing keyboard focus,
// highlighted text from instantsearch's escaped `<mark>` markup (built as nodes, never as raw HTML), templates.

type Attrs = Record<string, string | boolean | number | null | undefined>;

/** `h('button', {type: 'button'}, 'text', child)`; `on*` attributes are not supported (listeners are added after). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Array<Node | string | null | undefined | false>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/**
 * Replaces a container's content; the element that had focus (found again by its `data-focus` key) gets it back,
 * so keyboard users keep their place while results update around them.
 */
export function patch(container: HTMLElement, ...nodes: Node[]): void {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && container.contains(active) ? active.dataset.focus : undefined;
  container.replaceChildren(...nodes);
  if (key !== undefined) {
    const again = container.querySelector<HTMLElement>(`[data-focus="${CSS.escape(key)}"]`);
    again?.focus();
  }
}

/** instantsearch's highlighted value (HTML-escaped text with `<mark>` tags) as DOM nodes. */
export function highlighted(escaped: string): DocumentFragment {
  const tpl = document.createElement('template');
  tpl.innerHTML = escaped;
  const out = document.createDocumentFragment();
  for (const node of Array.from(tpl.content.childNodes)) {
    if (node.nodeType === Node.ELEMENT_NODE && (node as Element).tagName === 'MARK')
      out.append(h('mark', {}, node.textContent ?? ''));
    else out.append(document.createTextNode(node.textContent ?? ''));
  }
  return out;
}

/** Fills `{name}` placeholders. */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}
