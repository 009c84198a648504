import type { Quotas, Tenant, Usage, UsageRow } from '../api-types.js';
import { cell, dataTable, syncRows } from '../data-table.js';
import { element, replaceChildren } from '../dom.js';
import { formatCount, formatRate } from '../format.js';
import { meterBar } from '../meter-bar.js';
import { pageHeader } from '../page-header.js';
import { statusPill } from '../status-pill.js';
import type { View, ViewContext, ViewDefinition } from '../view.js';

/** Quotas change rarely: each tenant's are read again at most this often. */
const QUOTAS_MAX_AGE_MS = 15_000;

interface Totals {
  requestsToday: number;
  inferencesToday: number;
  requestsMonth: number;
  inferencesMonth: number;
}

function totalsByTenant(rows: readonly UsageRow[], today: string): Map<string, Totals> {
  const totals = new Map<string, Totals>();
  for (const row of rows) {
    const entry = totals.get(row.tenant_id) ?? { requestsToday: 0, inferencesToday: 0, requestsMonth: 0, inferencesMonth: 0 };
    entry.requestsMonth += row.requests;
    entry.inferencesMonth += row.inferences;
    if (row.day === today) {
      entry.requestsToday += row.requests;
      entry.inferencesToday += row.inferences;
    }
    totals.set(row.tenant_id, entry);
  }
  return totals;
}

/** Usage against a budget as a bar, or the bare count when the tenant has no such budget. */
function usageCell(used: number, budget: number | null | undefined, period: string): HTMLElement {
  if (budget === null || budget === undefined) {
    return element('div', { class: 'usage-plain' }, element('span', { class: 'strong', text: formatCount(used) }), element('span', { class: 'muted small', text: ` · no ${period} budget` }));
  }
  const ratio = budget === 0 ? (used > 0 ? 2 : 1) : used / budget;
  return meterBar({ ratio, label: `${formatCount(used)} / ${formatCount(budget)}`, title: `${formatCount(used)} of a ${period} budget of ${formatCount(budget)}` });
}

function limitsText(quotas: Quotas | undefined): string {
  if (quotas === undefined) return '–';
  const parts: string[] = [];
  if (quotas.requests_per_second !== null && quotas.requests_per_second !== undefined) parts.push(`${formatRate(quotas.requests_per_second)} req/s`);
  if (quotas.max_concurrent !== null && quotas.max_concurrent !== undefined) parts.push(`${formatCount(quotas.max_concurrent)} at once`);
  if (quotas.allowed_models !== null && quotas.allowed_models !== undefined) parts.push(`${quotas.allowed_models.length} model${quotas.allowed_models.length === 1 ? '' : 's'} allowed`);
  return parts.length === 0 ? 'no rate limit' : parts.join(' · ');
}

/** Tenants: each tenant's usage today and this month against its daily and monthly budgets. */
export const tenantsView: ViewDefinition = {
  id: 'tenants',
  title: 'Tenants',
  create(context: ViewContext): View {
    const { session } = context;
    const header = pageHeader('Tenants', 'Usage against quota, today and this month (UTC).');
    const table = dataTable(['Tenant', 'Requests today', 'Inferences today', 'Requests this month', 'Inferences this month', 'Limits'], { id: 'tenants-table', caption: 'Tenants and their usage' });
    const root = element('div', { class: 'view view-tenants' }, header.root, element('section', { class: 'card card-flush' }, table.root));
    const quotas = new Map<string, { readonly quotas: Quotas; readonly atMs: number }>();
    const quotasOf = async (tenantId: string): Promise<Quotas> => {
      const cached = quotas.get(tenantId);
      if (cached !== undefined && Date.now() - cached.atMs < QUOTAS_MAX_AGE_MS) return cached.quotas;
      const fresh = await session.api.get<Quotas>(`/v1/tenants/${encodeURIComponent(tenantId)}/quotas`);
      quotas.set(tenantId, { quotas: fresh, atMs: Date.now() });
      return fresh;
    };
    return {
      root,
      async refresh() {
        const [{ tenants }, usage] = await Promise.all([
          session.api.get<{ tenants: Tenant[] }>('/v1/tenants'),
          session.api.get<Usage>('/v1/usage'),
        ]);
        const documents = new Map(await Promise.all(tenants.map(async (tenant) => [tenant.id, await quotasOf(tenant.id)] as const)));
        const totals = totalsByTenant(usage.rows, usage.to);
        tenants.sort((a, b) => a.name.localeCompare(b.name));
        header.subtitle.textContent = `${formatCount(tenants.length)} tenant${tenants.length === 1 ? '' : 's'} · usage today (${usage.to}) and since ${usage.from}, UTC.`;
        syncRows(table.body, tenants, (tenant) => tenant.id, (tenant) => element('tr', { 'data-tenant': tenant.id }), (row, tenant) => {
          const figures = totals.get(tenant.id) ?? { requestsToday: 0, inferencesToday: 0, requestsMonth: 0, inferencesMonth: 0 };
          const document = documents.get(tenant.id);
          replaceChildren(cell(row, 0),
            element('div', { class: 'strong', text: tenant.name }),
            element('div', { class: 'muted small' }, element('span', { class: 'mono', text: tenant.id }), ' ', statusPill(tenant.status)));
          replaceChildren(cell(row, 1), usageCell(figures.requestsToday, document?.daily_requests, 'daily'));
          replaceChildren(cell(row, 2), usageCell(figures.inferencesToday, document?.daily_inferences, 'daily'));
          replaceChildren(cell(row, 3), usageCell(figures.requestsMonth, document?.monthly_requests, 'monthly'));
          replaceChildren(cell(row, 4), usageCell(figures.inferencesMonth, document?.monthly_inferences, 'monthly'));
          replaceChildren(cell(row, 5), element('span', { class: 'small', text: limitsText(document) }));
        }, 'No tenant yet. Create one with `triage tenants create`.');
      },
    };
  },
};
