import { element } from './dom.js';

export type Tone = 'good' | 'warn' | 'bad' | 'neutral' | 'info';

/** The tone of each state word the API uses (placement, instance health, job status). */
const TONES: Readonly<Record<string, Tone>> = {
  READY: 'good',
  LOADING: 'warn',
  UNLOADING: 'warn',
  FAILED: 'bad',
  healthy: 'good',
  ejected: 'bad',
  unknown: 'neutral',
  active: 'good',
  suspended: 'bad',
  validating: 'info',
  queued: 'neutral',
  in_progress: 'info',
  finalizing: 'info',
  completed: 'good',
  failed: 'bad',
  cancelling: 'warn',
  cancelled: 'neutral',
  expired: 'neutral',
};

export function toneOf(state: string): Tone {
  return TONES[state] ?? 'neutral';
}

/** A rounded label coloured by what the state means (READY green, LOADING amber, FAILED red). */
export function statusPill(state: string, label: string = state.replace(/_/g, ' ')): HTMLSpanElement {
  return element('span', { class: `pill pill-${toneOf(state)}`, 'data-state': state, text: label });
}
