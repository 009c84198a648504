import { queryString } from '../api-client.js';
import type { AuditEntry, AuditPage } from '../api-types.js';
import { actionError } from '../action-error.js';
import { dataTable } from '../data-table.js';
import { element, replaceChildren } from '../dom.js';
import { formatBytes, formatMs, formatTime } from '../format.js';
import { pageHeader } from '../page-header.js';
import { statusPill } from '../status-pill.js';
import type { View, ViewContext, ViewDefinition } from '../view.js';

const PAGE_SIZE = 50;
type Filters = Readonly<Record<string, string>>;

function textField(name: string, label: string, placeholder: string): HTMLElement {
  return element('label', { class: 'filter' }, element('span', { class: 'filter-label', text: label }),
    element('input', { class: 'input', name, type: 'search', placeholder, autocomplete: 'off', spellcheck: 'false' }));
}

function timeField(name: string, label: string): HTMLElement {
  return element('label', { class: 'filter' }, element('span', { class: 'filter-label', text: label }), element('input', { class: 'input', name, type: 'datetime-local', step: 1 }));
}

/** The form's values as the API's query: empty fields left out, local times as ISO instants. */
function filtersOf(form: HTMLFormElement): Filters {
  const filters: Record<string, string> = {};
  for (const [name, value] of new FormData(form)) {
    const text = typeof value === 'string' ? value.trim() : '';
    if (text === '') continue;
    if (name === 'since' || name === 'until') {
      const at = new Date(text);
      if (!Number.isNaN(at.getTime())) filters[name] = at.toISOString();
    } else {
      filters[name] = text;
    }
  }
  return filters;
}

function entryRow(entry: AuditEntry): HTMLTableRowElement {
  const time = element('td', { class: 'nowrap', title: entry.at, text: formatTime(entry.at) });
  if (entry.kind === 'admin') {
    return element('tr', { 'data-id': entry.id, 'data-kind': 'admin' }, time,
      element('td', {}, element('span', { class: 'tag tag-info', text: 'admin' })),
      element('td', {}, element('span', { class: 'mono small', text: `${entry.actor.tenant_id} / ${entry.actor.key_id}` })),
      element('td', {}, element('span', { class: 'strong', text: entry.action }), ' ', element('span', { class: 'mono small', text: entry.target })),
      element('td', {}, element('span', { class: 'muted', text: '–' })),
      element('td', {}));
  }
  const outcome = entry.refused_by !== null
    ? element('span', { class: 'pill pill-warn', text: `${entry.code} · ${entry.refused_by}` })
    : statusPill(entry.failed ? 'FAILED' : 'READY', entry.code);
  return element('tr', { 'data-id': entry.id, 'data-kind': 'inference' }, time,
    element('td', {}, element('span', { class: 'tag tag-neutral', text: 'inference' })),
    element('td', {}, element('span', { class: 'mono small', text: entry.tenant_id ?? 'no key' })),
    element('td', {}, element('span', { class: 'strong', text: entry.model === '' ? '(unreadable request)' : entry.model }), entry.version === '' ? null : element('span', { class: 'muted', text: ` v${entry.version}` })),
    element('td', {}, outcome),
    element('td', { class: 'small muted nowrap' }, `${formatMs(entry.latency_ms)} · ${formatBytes(entry.bytes_in)} in · ${formatBytes(entry.bytes_out)} out`,
      element('div', { class: 'mono request-id', title: `request id ${entry.request_id}`, text: `request ${entry.request_id}` })));
}

/** Audit: admin changes and inference calls, searchable by kind, tenant, model, action and time, newest first, page by page. */
export const auditView: ViewDefinition = {
  id: 'audit',
  title: 'Audit',
  create(context: ViewContext): View {
    const { session, notify } = context;
    const header = pageHeader('Audit', 'Who changed what, and every inference call (metadata only, never a payload).');
    const kind = element('select', { class: 'input', name: 'kind' },
      element('option', { value: '', text: 'Everything' }),
      element('option', { value: 'admin', text: 'Admin changes' }),
      element('option', { value: 'inference', text: 'Inference calls' }));
    const form = element('form', { class: 'card filters', id: 'audit-filters', role: 'search' },
      element('label', { class: 'filter' }, element('span', { class: 'filter-label', text: 'Kind' }), kind),
      textField('tenant', 'Tenant', 't_…'),
      textField('model', 'Model', 'model name'),
      textField('action', 'Action', 'e.g. model.deploy'),
      timeField('since', 'Since'),
      timeField('until', 'Until'),
      element('div', { class: 'filter filter-buttons' },
        element('button', { type: 'submit', class: 'button button-primary', text: 'Search' }),
        element('button', { type: 'reset', class: 'button button-quiet', text: 'Clear' })));
    const table = dataTable(['Time', 'Kind', 'Who', 'What', 'Outcome', 'Details'], { id: 'audit-table', caption: 'Audit entries' });
    const more = element('button', { type: 'button', class: 'button button-quiet', id: 'audit-more', text: 'Load more', hidden: true });
    const root = element('div', { class: 'view view-audit' }, header.root, form,
      element('section', { class: 'card card-flush' }, table.root), element('div', { class: 'load-more' }, more));

    let applied: Filters = {};
    let entries: AuditEntry[] = [];
    let nextBefore: string | null = null;
    const render = (): void => {
      if (entries.length === 0) replaceChildren(table.body, element('tr', { class: 'empty-row' }, element('td', { colspan: 6, text: 'No audit entry matches.' })));
      else replaceChildren(table.body, ...entries.map(entryRow));
      more.hidden = nextBefore === null;
      header.subtitle.textContent = `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} shown${nextBefore === null ? '' : ', more available'}.`;
    };
    const page = (before: string | null): Promise<AuditPage> => session.api.get<AuditPage>(`/v1/audit${queryString({ ...applied, limit: PAGE_SIZE, before })}`);
    /** The first page again: entries not seen yet go on top, pages already loaded stay. */
    const refresh = async (): Promise<void> => {
      const first = await page(null);
      if (entries.length === 0) {
        entries = [...first.entries];
        nextBefore = first.next_before;
      } else {
        const known = new Set(entries.map((entry) => entry.id));
        entries = [...first.entries.filter((entry) => !known.has(entry.id)), ...entries];
      }
      render();
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      applied = filtersOf(form);
      entries = [];
      nextBefore = null;
      refresh().catch((error: unknown) => notify(actionError('Searching the audit log', error), 'error'));
    });
    form.addEventListener('reset', () => {
      applied = {};
      entries = [];
      nextBefore = null;
      window.setTimeout(() => void refresh().catch(() => undefined), 0);
    });
    more.addEventListener('click', () => {
      if (nextBefore === null) return;
      more.disabled = true;
      page(nextBefore).then((next) => {
        const known = new Set(entries.map((entry) => entry.id));
        entries = [...entries, ...next.entries.filter((entry) => !known.has(entry.id))];
        nextBefore = next.next_before;
        render();
      }).catch((error: unknown) => notify(actionError('Loading more audit entries', error), 'error')).finally(() => {
        more.disabled = false;
      });
    });
    return { root, refresh };
  },
};
