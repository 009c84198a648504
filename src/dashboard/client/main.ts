import { replaceChildren } from './dom.js';
import { keyStore } from './key-store.js';
import { startDashboardApp, type DashboardApp } from './dashboard-app.js';
import type { Session } from './session.js';
import { signIn } from './sign-in.js';
import { signInView } from './sign-in-view.js';

/**
 * The dashboard's entry point: a key kept from earlier in this browser tab is checked
 * again (GET /v1/whoami) and opens the dashboard; otherwise, or when it is refused, the
 * sign-in screen. Signing out forgets the key.
 */
const mount = document.getElementById('root') ?? document.body;
let app: DashboardApp | null = null;

function showSignIn(message: string): void {
  app?.stop();
  app = null;
  document.title = 'Sign in · triage';
  replaceChildren(mount, signInView({ message, onSignedIn: showDashboard }));
}

function showDashboard(session: Session): void {
  app?.stop();
  app = startDashboardApp(session, (reason) => {
    keyStore.clear();
    showSignIn(reason);
  });
  replaceChildren(mount, app.root);
}

async function start(): Promise<void> {
  const stored = keyStore.get();
  if (stored === null) {
    showSignIn('');
    return;
  }
  const result = await signIn(stored);
  if ('session' in result) {
    showDashboard(result.session);
    return;
  }
  if (!result.unreachable) keyStore.clear();
  showSignIn(result.refusal);
}

void start();
