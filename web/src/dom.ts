/** A tiny element builder: the dashboard needs no framework for a few tables and cards. */

type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
}

/** A table from a header row and body rows. */
export function table(
  headers: string[],
  rows: Child[][],
  attributes: Attributes = {},
): HTMLElement {
  return h(
    'table',
    attributes,
    h('thead', {}, h('tr', {}, ...headers.map((header) => h('th', {}, header)))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell))))),
  );
}

/** What a page shows when there is nothing yet: what to do, and a command to copy. */
export function emptyState(title: string, text: string, command: string): HTMLElement {
  return h(
    'section',
    { class: 'empty', 'data-testid': 'empty-state' },
    h('h2', {}, title),
    h('p', {}, text),
    h('pre', {}, h('code', {}, command)),
  );
}

export function problemBox(message: string): HTMLElement {
  return h('p', { class: 'problem', role: 'alert' }, message);
}
