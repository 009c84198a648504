import type { Overview } from '../api-types.js';
import { element, setText } from '../dom.js';
import { formatCount, formatMs, formatPercent, formatRate } from '../format.js';
import { pageHeader } from '../page-header.js';
import { TimeChart } from '../time-chart.js';
import type { View, ViewContext, ViewDefinition } from '../view.js';

const WINDOW_SECONDS = 3600;

interface StatCard {
  readonly root: HTMLElement;
  readonly value: HTMLElement;
  readonly hint: HTMLElement;
}

function statCard(metric: string, label: string, hint: string): StatCard {
  const value = element('div', { class: 'stat-value', 'data-value': '', text: '–' });
  const hintElement = element('div', { class: 'stat-hint', text: hint });
  const root = element('section', { class: 'card stat-card', 'data-metric': metric }, element('h2', { class: 'stat-label', text: label }), value, hintElement);
  return { root, value, hint: hintElement };
}

/** Overview: the traffic of the last hour (every tenant's for an administrator, else the key's tenant's), as big numbers and two charts. */
export const overviewView: ViewDefinition = {
  id: 'overview',
  title: 'Overview',
  create(context: ViewContext): View {
    const header = pageHeader('Overview', 'Inference traffic through triage over the last hour.');
    const cards = {
      rate: statCard('requests-per-second', 'Requests / s', 'last 60 s'),
      p50: statCard('p50', 'Latency p50', 'last 5 min'),
      p99: statCard('p99', 'Latency p99', 'last 5 min'),
      errors: statCard('error-rate', 'Error rate', 'last 5 min'),
      rejections: statCard('quota-rejections', 'Quota rejections', 'last hour'),
    };
    const traffic = new TimeChart({
      height: 240,
      format: (value) => formatRate(value),
      series: [
        { label: 'Requests/s', color: '#2563eb', fill: true },
        { label: 'Errors/s', color: '#dc2626' },
        { label: 'Quota rejections/s', color: '#d97706', dash: [6, 4] },
      ],
    });
    const latency = new TimeChart({
      height: 240,
      format: (value) => formatMs(value),
      series: [
        { label: 'p50', color: '#0d9488', fill: true },
        { label: 'p99', color: '#7c3aed' },
      ],
    });
    const root = element('div', { class: 'view view-overview' },
      header.root,
      element('div', { class: 'stat-grid' }, ...Object.values(cards).map((card) => card.root)),
      element('div', { class: 'chart-grid' },
        element('section', { class: 'card chart-card', 'data-chart': 'traffic' }, element('h2', { class: 'card-title', text: 'Requests per second' }), traffic.root),
        element('section', { class: 'card chart-card', 'data-chart': 'latency' }, element('h2', { class: 'card-title', text: 'Latency' }), latency.root),
      ),
    );
    return {
      root,
      async refresh() {
        const overview = await context.session.api.get<Overview>(`/v1/overview?window_seconds=${WINDOW_SECONDS}`);
        const { totals, series } = overview;
        setText(header.subtitle, overview.scope === 'all'
          ? 'Inference traffic of every tenant through triage, last hour.'
          : `Inference traffic of tenant ${overview.tenant_id ?? ''}, last hour.`);
        setText(cards.rate.value, formatRate(totals.requests_per_second));
        setText(cards.rate.hint, `last 60 s · ${formatCount(totals.requests)} in the last hour`);
        setText(cards.p50.value, formatMs(totals.p50_ms));
        setText(cards.p99.value, formatMs(totals.p99_ms));
        setText(cards.errors.value, formatPercent(totals.error_rate));
        cards.errors.root.classList.toggle('stat-bad', totals.error_rate >= 0.05);
        setText(cards.rejections.value, formatCount(totals.quota_rejections));
        cards.rejections.root.classList.toggle('stat-warn', totals.quota_rejections > 0);
        const step = overview.step_seconds > 0 ? overview.step_seconds : 1;
        const times = series.map((point) => Date.parse(point.at) / 1000);
        traffic.setData(times, [
          series.map((point) => point.requests / step),
          series.map((point) => point.errors / step),
          series.map((point) => point.quota_rejections / step),
        ]);
        latency.setData(times, [series.map((point) => point.p50_ms), series.map((point) => point.p99_ms)]);
      },
      dispose() {
        traffic.destroy();
        latency.destroy();
      },
    };
  },
};
