/** Attributes of `element()`: strings set as attributes, `text` as textContent, `on*` functions as listeners. */
export type Attributes = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

export type Child = Node | string | number | null | undefined | false;

/**
 * Builds one element. Text always goes through text nodes and attributes through
 * setAttribute, never through innerHTML: data from the API can never become markup.
 */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') {
      node.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'text') {
      node.textContent = String(value);
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces every child of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Sets text only when it changed (keeps selections and avoids layout work on every poll). */
export function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}
