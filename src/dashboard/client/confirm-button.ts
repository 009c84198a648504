import { element } from './dom.js';

const ARMED_MS = 4000;

export interface ConfirmButtonOptions {
  readonly label: string;
  /** What the button says once armed, e.g. "Confirm undeploy". */
  readonly confirmLabel: string;
  /** data-action, for styling and for tests. */
  readonly action: string;
  readonly run: () => Promise<void>;
}

/**
 * A button for a destructive action that asks twice without a modal: the first click
 * arms it (it turns red and says what it will do), a second click within 4 s runs the
 * action; otherwise it disarms itself. Disabled while the action runs.
 */
export function confirmButton(options: ConfirmButtonOptions): HTMLButtonElement {
  const button = element('button', { type: 'button', class: 'button button-small button-quiet', 'data-action': options.action, text: options.label });
  let timer: number | null = null;
  const disarm = (): void => {
    if (timer !== null) window.clearTimeout(timer);
    timer = null;
    button.classList.remove('button-armed');
    button.textContent = options.label;
  };
  button.addEventListener('click', () => {
    if (timer === null) {
      button.classList.add('button-armed');
      button.textContent = options.confirmLabel;
      timer = window.setTimeout(disarm, ARMED_MS);
      return;
    }
    disarm();
    button.disabled = true;
    void options.run().finally(() => {
      button.disabled = false;
    });
  });
  return button;
}
