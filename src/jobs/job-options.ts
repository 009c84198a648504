import { TriageError } from '../errors/triage-error';
import type { ModelSignature } from './model-signature';

/** What a job's creator chose besides its rows. */
export interface JobOptions {
  readonly model: string;
  /** '' = the version routing picks. */
  readonly modelVersion: string;
  /** null: the model's lowest priority level (below online traffic), or its default when it has none. */
  readonly priority: number | null;
  readonly completionWindowS: number;
  readonly metadata: Readonly<Record<string, string>>;
}

const MODEL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const WINDOW = /^([0-9]{1,7})(s|m|h|d)$/;
const WINDOW_UNIT_S: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };
const MAX_WINDOW_S = 30 * 86_400;
export const DEFAULT_COMPLETION_WINDOW = '24h';
const MAX_METADATA_KEYS = 16;

/** Members of a JSON job body, besides `rows`. */
export const JOB_BODY_FIELDS = ['model', 'model_version', 'priority', 'completion_window', 'metadata'] as const;
/** Query parameters of POST /v1/jobs (every option but metadata). */
export const JOB_QUERY_FIELDS = ['model', 'model_version', 'priority', 'completion_window'] as const;

/**
 * Gathers a job's options from the query string and the JSON body's members, each given at
 * most once (the same value in both is accepted), each checked as it arrives so a bad one
 * is refused before any row is read.
 */
export class JobOptionsBuilder {
  private readonly values = new Map<string, unknown>();

  /** The query parameters (strings); unknown ones are refused. */
  fromQuery(query: Readonly<Record<string, unknown>>): this {
    for (const [name, value] of Object.entries(query)) {
      if (!(JOB_QUERY_FIELDS as readonly string[]).includes(name)) invalid(`query parameter ${name}`, `is not one of ${JOB_QUERY_FIELDS.join(', ')}`);
      if (typeof value !== 'string') invalid(`query parameter ${name}`, 'must be given once');
      this.set(name, name === 'priority' ? integerText(value, 'priority') : value);
    }
    return this;
  }

  /** One member of the JSON body (not rows). */
  field(name: string, value: unknown): void {
    if (!(JOB_BODY_FIELDS as readonly string[]).includes(name)) invalid(name, `is not a member of a job (known: ${[...JOB_BODY_FIELDS, 'rows'].join(', ')})`);
    this.set(name, name === 'model_version' && typeof value === 'number' ? String(value) : value);
  }

  /** The model, once known (rows cannot be checked before). */
  get model(): string | null {
    return (this.values.get('model') as string | undefined) ?? null;
  }

  /** True once completion_window was given (chunks written before then must outlive any window). */
  get completionWindowKnown(): boolean {
    return this.values.has('completion_window');
  }

  get modelVersion(): string {
    return (this.values.get('model_version') as string | undefined) ?? '';
  }

  build(): JobOptions {
    const model = this.model;
    if (model === null) invalid('model', 'is missing: name the model (JSON member "model", or ?model= with JSONL)');
    const window = (this.values.get('completion_window') as string | undefined) ?? DEFAULT_COMPLETION_WINDOW;
    return {
      model,
      modelVersion: this.modelVersion,
      priority: (this.values.get('priority') as number | undefined) ?? null,
      completionWindowS: windowSeconds(window),
      metadata: (this.values.get('metadata') as Record<string, string> | undefined) ?? {},
    };
  }

  private set(name: string, value: unknown): void {
    const checked = check(name, value);
    if (this.values.has(name) && this.values.get(name) !== checked) invalid(name, 'is given twice with different values (query and body)');
    this.values.set(name, checked);
  }
}

/** The Triton priority a job runs at: as asked, else the model's lowest level when it has levels, else 0 (its default). */
export function jobPriority(options: JobOptions, signature: ModelSignature): number {
  if (options.priority !== null) return options.priority;
  return signature.priorityLevels > 0 ? signature.priorityLevels : 0;
}

function check(name: string, value: unknown): unknown {
  switch (name) {
    case 'model':
      if (typeof value !== 'string' || !MODEL_NAME.test(value)) invalid(name, 'must be a model name (1-128 letters, digits, _ . -)');
      return value;
    case 'model_version':
      if (typeof value !== 'string' || !/^([1-9][0-9]{0,18})?$/.test(value)) invalid(name, 'must be a version number (e.g. "2"), or "" for the version routing picks');
      return value;
    case 'priority':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_000_000) invalid(name, 'must be an integer from 0 (the model\'s default) to 1000000 (1 = highest)');
      return value;
    case 'completion_window':
      if (typeof value !== 'string') invalid(name, `must be a duration such as "24h" (s, m, h or d; at most 30d), got ${typeof value}`);
      windowSeconds(value);
      return value;
    default:
      return metadata(value);
  }
}

function windowSeconds(text: string): number {
  const match = WINDOW.exec(text);
  const seconds = match === null ? NaN : Number(match[1]) * (WINDOW_UNIT_S[match[2] as string] as number);
  if (!(seconds >= 1 && seconds <= MAX_WINDOW_S)) invalid('completion_window', `must be a duration from 1s to 30d such as "24h" (s, m, h or d), got ${JSON.stringify(text)}`);
  return seconds;
}

function metadata(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) invalid('metadata', 'must be an object of strings');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_METADATA_KEYS) invalid('metadata', `has ${entries.length} keys, at most ${MAX_METADATA_KEYS} are kept`);
  for (const [key, item] of entries) {
    if (key.length < 1 || key.length > 64) invalid(`metadata.${key.slice(0, 64)}`, 'keys are 1-64 characters');
    if (typeof item !== 'string' || item.length > 512) invalid(`metadata.${key}`, 'must be a string of at most 512 characters');
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function integerText(text: string, name: string): number {
  if (!/^[0-9]{1,7}$/.test(text)) invalid(name, `must be an integer, got ${JSON.stringify(text.slice(0, 20))}`);
  return Number(text);
}

function invalid(field: string, rule: string): never {
  throw new TriageError('INVALID_ARGUMENT', `${field} ${rule}`);
}
