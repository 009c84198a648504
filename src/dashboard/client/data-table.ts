import { element } from './dom.js';

export interface DataTable {
  readonly root: HTMLElement;
  readonly body: HTMLTableSectionElement;
}

/** A table in a card: a header row and a body the view fills. */
export function dataTable(headers: readonly string[], options: { readonly id?: string; readonly caption?: string } = {}): DataTable {
  const body = element('tbody');
  const table = element('table', { class: 'table', id: options.id },
    options.caption === undefined ? null : element('caption', { class: 'visually-hidden', text: options.caption }),
    element('thead', {}, element('tr', {}, ...headers.map((header) => element('th', { scope: 'col', text: header })))),
    body,
  );
  return { root: element('div', { class: 'table-wrap' }, table), body };
}

/**
 * Makes the body's rows match `items`, in order, one row per key: a row already there is
 * updated in place (so an input in it keeps its value and focus), a new key gets a new
 * row, a key gone loses its row. `empty` is shown when there are no items.
 */
export function syncRows<T>(
  body: HTMLTableSectionElement,
  items: readonly T[],
  keyOf: (item: T) => string,
  create: (item: T) => HTMLTableRowElement,
  update: (row: HTMLTableRowElement, item: T) => void,
  empty: string,
): void {
  const existing = new Map<string, HTMLTableRowElement>();
  for (const row of Array.from(body.rows)) {
    const key = row.dataset['key'];
    if (key === undefined) row.remove();
    else existing.set(key, row);
  }
  let previous: HTMLTableRowElement | null = null;
  for (const item of items) {
    const key = keyOf(item);
    let row = existing.get(key);
    if (row === undefined) {
      row = create(item);
      row.dataset['key'] = key;
    } else {
      existing.delete(key);
    }
    update(row, item);
    const expectedPosition: ChildNode | null = previous === null ? body.firstChild : previous.nextSibling;
    if (expectedPosition !== row) body.insertBefore(row, expectedPosition);
    previous = row;
  }
  for (const row of existing.values()) row.remove();
  if (items.length === 0) {
    const columns = body.closest('table')?.tHead?.rows[0]?.cells.length ?? 1;
    body.appendChild(element('tr', { class: 'empty-row' }, element('td', { colspan: columns, text: empty })));
  }
}

/** Sets a cell's content only when its text changed (or always, for cells holding elements). */
export function cell(row: HTMLTableRowElement, index: number): HTMLTableCellElement {
  while (row.cells.length <= index) row.insertCell();
  return row.cells[index] as HTMLTableCellElement;
}
