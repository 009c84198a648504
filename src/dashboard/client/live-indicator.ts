import { element } from './dom.js';
import { formatClock } from './format.js';

export type LiveState = { readonly kind: 'live'; readonly at: Date } | { readonly kind: 'paused' } | { readonly kind: 'offline' } | { readonly kind: 'error'; readonly at: Date | null };

/** The top bar's "Live · updated 14:02:31" badge: green while polls succeed, grey when paused, red when the API is unreachable. */
export function liveIndicator(): { readonly root: HTMLElement; set(state: LiveState): void } {
  const label = element('span', { class: 'live-label', text: 'Connecting…' });
  const root = element('span', { class: 'live live-pending', id: 'live-indicator', role: 'status' }, element('span', { class: 'live-dot', 'aria-hidden': 'true' }), label);
  let lastOk: Date | null = null;
  return {
    root,
    set(state) {
      let text: string;
      if (state.kind === 'live') {
        lastOk = state.at;
        text = `Live · updated ${formatClock(state.at)}`;
      } else if (state.kind === 'paused') {
        text = 'Paused while this tab is hidden';
      } else if (state.kind === 'offline') {
        text = lastOk === null ? 'Offline' : `Offline · last update ${formatClock(lastOk)}`;
      } else {
        text = lastOk === null ? 'Update failed' : `Update failed · last ${formatClock(lastOk)}`;
      }
      root.className = `live live-${state.kind}`;
      label.textContent = text;
    },
  };
}
