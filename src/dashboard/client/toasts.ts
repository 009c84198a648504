import { element } from './dom.js';
import type { Notify } from './view.js';

const SHOWN_MS = 5000;

/** A corner stack of short messages after actions; each leaves after a few seconds. */
export function toastStack(): { readonly root: HTMLElement; readonly notify: Notify } {
  const root = element('div', { class: 'toasts', 'aria-live': 'polite' });
  const notify: Notify = (message, tone) => {
    const toast = element('div', { class: `toast toast-${tone}`, role: tone === 'error' ? 'alert' : 'status', text: message });
    root.appendChild(toast);
    window.setTimeout(() => toast.remove(), tone === 'error' ? SHOWN_MS * 2 : SHOWN_MS);
  };
  return { root, notify };
}
