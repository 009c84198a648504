import { element } from './dom.js';
import { keyStore } from './key-store.js';
import type { Session } from './session.js';
import { signIn } from './sign-in.js';

export interface SignInViewOptions {
  /** Shown at once, e.g. why the previous session ended. */
  readonly message?: string;
  readonly onSignedIn: (session: Session) => void;
}

/** The sign-in screen: one field for the API key; a refusal is shown under it and the screen stays. */
export function signInView(options: SignInViewOptions): HTMLElement {
  const input = element('input', {
    id: 'signin-key', type: 'password', name: 'api-key', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'trg_…', required: true, 'aria-describedby': 'signin-help',
  });
  const error = element('p', { id: 'signin-error', class: 'signin-error', role: 'alert' });
  const submit = element('button', { id: 'signin-submit', type: 'submit', class: 'button button-primary button-wide', text: 'Sign in' });
  const showError = (message: string): void => {
    error.textContent = message;
    error.hidden = message === '';
  };
  showError(options.message ?? '');
  const form = element('form', { class: 'signin-form', novalidate: true },
    element('label', { for: 'signin-key', class: 'field-label', text: 'API key' }),
    input,
    element('p', { id: 'signin-help', class: 'field-help', text: 'A key with the read scope sees everything of its tenant; a key with admin sees every tenant and can deploy models and cancel jobs. The key stays in this browser tab only.' }),
    error,
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    showError('');
    void signIn(input.value).then((result) => {
      if ('session' in result) {
        keyStore.set(input.value.trim());
        options.onSignedIn(result.session);
        return;
      }
      submit.disabled = false;
      submit.textContent = 'Sign in';
      showError(result.refusal);
      input.select();
    });
  });
  const screen = element('main', { class: 'signin-screen', id: 'signin' },
    element('section', { class: 'signin-card' },
      element('div', { class: 'brand brand-large' }, element('span', { class: 'brand-mark', 'aria-hidden': 'true' }), element('span', { class: 'brand-name', text: 'triage' })),
      element('h1', { class: 'signin-title', text: 'Sign in to the dashboard' }),
      element('p', { class: 'signin-lead', text: 'Models, instances, traffic, quotas and jobs of your Triton fleet, live.' }),
      form,
    ),
  );
  queueMicrotask(() => input.focus());
  return screen;
}
