import type { Session } from './session.js';

/** A short message after an action: what happened, or why it was refused. */
export type Notify = (message: string, tone: 'success' | 'error' | 'info') => void;

export interface ViewContext {
  readonly session: Session;
  readonly notify: Notify;
  /** Asks for a refresh now (after an action), instead of at the next 2 s tick. */
  readonly refreshSoon: () => void;
}

/**
 * One tab of the dashboard. `root` is built once; `refresh` reads the API and updates
 * the DOM in place (inputs the user is typing in are never rebuilt). It rejects with
 * ApiError or ApiUnreachable, which the shell shows.
 */
export interface View {
  readonly root: HTMLElement;
  refresh(): Promise<void>;
  /** Called when the tab is left (charts release their observers). */
  dispose?(): void;
}

export interface ViewDefinition {
  readonly id: string;
  readonly title: string;
  create(context: ViewContext): View;
}
