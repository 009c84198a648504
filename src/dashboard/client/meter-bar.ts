import { element } from './dom.js';

export interface MeterOptions {
  /** 0..1; values above 1 are drawn full and marked over. */
  readonly ratio: number;
  readonly label: string;
  readonly tone?: 'good' | 'warn' | 'bad' | 'info';
  readonly title?: string;
}

/**
 * A horizontal bar (job progress, usage against a budget) with its label beside it.
 * The width is set through the CSSOM (element.style), which the page's CSP allows,
 * not through a style attribute in markup.
 */
export function meterBar(options: MeterOptions): HTMLDivElement {
  const fill = element('div', { class: 'meter-fill' });
  const bar = element('div', { class: 'meter', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100 }, fill);
  const label = element('span', { class: 'meter-label' });
  const root = element('div', { class: 'meter-row' }, bar, label);
  updateMeterBar(root, options);
  return root;
}

export function updateMeterBar(root: HTMLElement, options: MeterOptions): void {
  const bar = root.querySelector<HTMLElement>('.meter');
  const fill = root.querySelector<HTMLElement>('.meter-fill');
  const label = root.querySelector<HTMLElement>('.meter-label');
  if (bar === null || fill === null || label === null) return;
  const ratio = Number.isFinite(options.ratio) ? Math.max(0, options.ratio) : 0;
  const percent = Math.min(100, ratio * 100);
  fill.style.width = `${percent}%`;
  const tone = options.tone ?? (ratio > 1 ? 'bad' : ratio >= 0.8 ? 'warn' : 'good');
  fill.className = `meter-fill meter-${tone}`;
  bar.setAttribute('aria-valuenow', String(Math.round(percent)));
  if (options.title !== undefined) root.title = options.title;
  if (label.textContent !== options.label) label.textContent = options.label;
}
