import type { InferParameters } from '../../protocol/inference-messages';

/** The reserved request parameters local-triton acts on. */
export interface RequestParameters {
  /** 0 = the model's default priority level; 1 is the highest. */
  readonly priority: number;
  /** Queue timeout in microseconds; 0 = none given. */
  readonly timeoutUs: number;
}

const INTEGER_CHOICES = new Set(['int64_param', 'uint64_param']);

/**
 * Reads and type-checks Triton's reserved request parameters; other (custom) parameters
 * pass through untouched. Wrong types are INVALID_ARGUMENT, as in Triton.
 */
export function readRequestParameters(parameters: InferParameters, fail: (message: string) => never): RequestParameters {
  let priority = 0;
  let timeoutUs = 0;
  for (const [key, parameter] of Object.entries(parameters)) {
    const choice = parameter.parameter_choice ?? '';
    switch (key) {
      case 'priority':
      case 'timeout': {
        if (!INTEGER_CHOICES.has(choice)) fail(`invalid value type for '${key}' parameter, expected int64_param or uint64_param`);
        const value = Number(choice === 'int64_param' ? parameter.int64_param : parameter.uint64_param);
        if (!Number.isSafeInteger(value) || value < 0) fail(`parameter '${key}' must be a non-negative integer, got ${value}`);
        if (key === 'priority') priority = value;
        else timeoutUs = value;
        break;
      }
      case 'sequence_start':
      case 'sequence_end':
        if (choice !== 'bool_param') fail(`invalid value type for '${key}' parameter, expected bool_param`);
        break;
      case 'sequence_id':
        if (!INTEGER_CHOICES.has(choice) && choice !== 'string_param') fail(`invalid value type for 'sequence_id' parameter, expected int64_param, uint64_param or string_param`);
        break;
      default:
        break;
    }
  }
  return { priority, timeoutUs };
}
