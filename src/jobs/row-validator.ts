import { CustomIdSet } from './custom-id-set';
import type { ModelSignature } from './model-signature';
import type { RowTensor } from './packed-rows';
import type { RowProblem } from './row-problem';
import { checkRowInput } from './row-input-check';

const ROW_MEMBERS = new Set(['custom_id', 'inputs']);
/** 1-64 characters, none of them a control, format, private-use, surrogate or unassigned code point. */
const CUSTOM_ID = /^[^\p{C}]{1,64}$/u;

/** A good row, as packRow takes it: its custom_id and each input's raw bytes (in the order given). */
export interface CheckedRow {
  readonly customId: string;
  readonly inputs: readonly RowTensor[];
}

export type RowCheck = { readonly row: CheckedRow } | { readonly problems: readonly RowProblem[] };

/**
 * Checks the rows of one job against its model, one at a time, remembering only their
 * custom_ids (hashed): `{"custom_id": "...", "inputs": {NAME: nested array | tensor}}`,
 * every required input present, no input the model lacks, custom_ids unique in the job.
 */
export class RowValidator {
  private readonly seen = new CustomIdSet();
  private readonly inputs: ReadonlyMap<string, ModelSignature['inputs'][number]>;

  constructor(private readonly signature: ModelSignature) {
    this.inputs = new Map(signature.inputs.map((input) => [input.name, input]));
  }

  /** Checks row number `row` (parsed JSON), returning the row to store or every problem found in it. */
  check(value: unknown, row: number): RowCheck {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { problems: [{ row, custom_id: null, field: 'row', rule: 'must be a JSON object {"custom_id": "...", "inputs": {...}}' }] };
    }
    const object = value as Record<string, unknown>;
    const rawId = object['custom_id'];
    const customId = typeof rawId === 'string' && CUSTOM_ID.test(rawId) ? rawId : null;
    const problems: RowProblem[] = [];
    const problem = (field: string, rule: string): void => { problems.push({ row, custom_id: customId, field, rule }); };
    for (const member of Object.keys(object)) if (!ROW_MEMBERS.has(member)) problem(member, 'is not a member of a row (known: custom_id, inputs)');
    if (customId === null) {
      problem('custom_id', rawId === undefined ? 'is missing: every row needs a custom_id (1-64 printable characters, unique in the job)'
        : 'must be a string of 1-64 printable characters (no control characters)');
    } else {
      const first = this.seen.add(customId, row);
      if (first !== 0) problem('custom_id', `is used by row ${first} too: custom_ids must be unique in the job`);
    }
    const inputs = object['inputs'];
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
      problem('inputs', 'must be an object of the model\'s inputs by name');
      return { problems };
    }
    const stored: RowTensor[] = [];
    for (const [name, given] of Object.entries(inputs as Record<string, unknown>)) {
      const input = this.inputs.get(name);
      if (input === undefined) {
        problem(`inputs.${name}`, `is not an input of model '${this.signature.model}' (inputs: ${[...this.inputs.keys()].join(', ')})`);
        continue;
      }
      const check = checkRowInput(input, given, this.signature.maxBatchSize);
      if ('tensor' in check) stored.push(check.tensor);
      else problem(`inputs.${name}${check.field}`, check.rule);
    }
    for (const input of this.inputs.values()) {
      if (!input.optional && !Object.prototype.hasOwnProperty.call(inputs, input.name)) problem(`inputs.${input.name}`, `is missing: model '${this.signature.model}' needs it`);
    }
    if (problems.length > 0 || customId === null) return { problems };
    return { row: { customId, inputs: stored } };
  }
}
