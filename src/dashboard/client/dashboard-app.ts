import { ApiError, ApiUnreachable } from './api-client.js';
import { element, replaceChildren } from './dom.js';
import { liveIndicator } from './live-indicator.js';
import { Poller } from './poller.js';
import type { Session } from './session.js';
import { toastStack } from './toasts.js';
import type { View, ViewDefinition } from './view.js';
import { VIEWS } from './view-registry.js';

const POLL_MS = 2000;

export interface DashboardApp {
  readonly root: HTMLElement;
  stop(): void;
}

function viewFromHash(): ViewDefinition {
  const id = window.location.hash.replace(/^#\/?/, '');
  return VIEWS.find((view) => view.id === id) ?? (VIEWS[0] as ViewDefinition);
}

/**
 * The signed-in dashboard: top bar (product, live badge, who is signed in, sign out),
 * tabs (the URL hash names the tab), the visible view polled every 2 s, a banner when
 * the API cannot be reached. A 401 means the key stopped being valid (revoked, expired):
 * the session ends with that reason.
 */
export function startDashboardApp(session: Session, signOut: (reason: string) => void): DashboardApp {
  const live = liveIndicator();
  const toasts = toastStack();
  const banner = element('div', { class: 'banner', id: 'offline-banner', role: 'alert', hidden: true });
  const viewError = element('div', { class: 'view-error', id: 'view-error', role: 'alert', hidden: true });
  const content = element('main', { class: 'content', id: 'content' });
  const tabs = new Map<string, HTMLAnchorElement>();
  const nav = element('nav', { class: 'tabs', 'aria-label': 'Dashboard sections' },
    ...VIEWS.map((view) => {
      const link = element('a', { class: 'tab', href: `#/${view.id}`, 'data-tab': view.id, text: view.title });
      tabs.set(view.id, link);
      return link;
    }));
  const signOutButton = element('button', { type: 'button', class: 'button button-quiet button-small', id: 'sign-out', text: 'Sign out' });
  const who = session.who;
  const topbar = element('header', { class: 'topbar' },
    element('div', { class: 'topbar-inner' },
      element('div', { class: 'brand' }, element('span', { class: 'brand-mark', 'aria-hidden': 'true' }), element('span', { class: 'brand-name', text: 'triage' }), element('span', { class: 'brand-sub', text: 'Triton control plane' })),
      element('div', { class: 'topbar-right' },
        live.root,
        element('div', { class: 'identity', id: 'identity', title: `key ${who.key_id}` },
          element('span', { class: 'identity-tenant', text: who.tenant_id }),
          ...who.scopes.map((scope) => element('span', { class: `scope scope-${scope}`, 'data-scope': scope, text: scope }))),
        signOutButton)),
    element('div', { class: 'tabs-row' }, nav));
  const root = element('div', { class: 'app', id: 'app' }, topbar, banner, element('div', { class: 'page' }, viewError, content), toasts.root);

  const views = new Map<string, View>();
  let current: { readonly definition: ViewDefinition; readonly view: View } | null = null;
  const poller = new Poller(() => current === null ? Promise.resolve() : current.view.refresh(), POLL_MS, (outcome) => {
    if (outcome.ok) {
      banner.hidden = true;
      viewError.hidden = true;
      live.set({ kind: 'live', at: outcome.at });
      return;
    }
    const error = outcome.error;
    if (error instanceof ApiError && error.status === 401) {
      signOut(`Your session ended: ${error.message}. Sign in again.`);
      return;
    }
    if (error instanceof ApiUnreachable) {
      banner.textContent = 'The triage API cannot be reached. The figures below are from the last successful update; retrying every 2 s.';
      banner.hidden = false;
      live.set({ kind: 'offline' });
      return;
    }
    banner.hidden = true;
    viewError.textContent = error instanceof ApiError
      ? (error.status === 403 ? `This key may not see this: ${error.message}.` : `The API answered ${error.status}: ${error.message}.`)
      : `Updating failed: ${error instanceof Error ? error.message : String(error)}.`;
    viewError.hidden = false;
    live.set({ kind: 'error', at: null });
  }, () => live.set({ kind: 'paused' }));

  const context = { session, notify: toasts.notify, refreshSoon: () => poller.now() };
  const show = (definition: ViewDefinition): void => {
    if (current?.definition.id === definition.id) return;
    let view = views.get(definition.id);
    if (view === undefined) {
      view = definition.create(context);
      views.set(definition.id, view);
    }
    current = { definition, view };
    for (const [id, tab] of tabs) {
      tab.classList.toggle('tab-active', id === definition.id);
      if (id === definition.id) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    viewError.hidden = true;
    replaceChildren(content, view.root);
    document.title = `${definition.title} · triage`;
    poller.now();
  };
  const onHash = (): void => show(viewFromHash());
  window.addEventListener('hashchange', onHash);
  signOutButton.addEventListener('click', () => signOut(''));
  show(viewFromHash());
  poller.start();
  return {
    root,
    stop() {
      poller.stop();
      window.removeEventListener('hashchange', onHash);
      for (const view of views.values()) view.dispose?.();
    },
  };
}
