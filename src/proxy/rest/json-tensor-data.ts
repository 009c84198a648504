import { elementCount, formatShape, type Datatype } from '../../protocol/datatypes';
import { tensorFromJson, type JsonTensorValue } from '../../protocol/json-tensor';
import { describeJson, invalid } from './json-rules';

/** Inclusive ranges of the integer datatypes. */
const INTEGER_RANGES: Partial<Record<Datatype, readonly [bigint, bigint]>> = {
  INT8: [-(2n ** 7n), 2n ** 7n - 1n],
  INT16: [-(2n ** 15n), 2n ** 15n - 1n],
  INT32: [-(2n ** 31n), 2n ** 31n - 1n],
  INT64: [-(2n ** 63n), 2n ** 63n - 1n],
  UINT8: [0n, 2n ** 8n - 1n],
  UINT16: [0n, 2n ** 16n - 1n],
  UINT32: [0n, 2n ** 32n - 1n],
  UINT64: [0n, 2n ** 64n - 1n],
};

const DECIMAL = /^-?[0-9]+$/;

/**
 * The raw (Triton wire) bytes of an input sent as JSON `data`: an array, flat or nested,
 * row-major, with exactly as many values as the shape holds. Numbers for numeric types
 * (integers in the datatype's range; INT64/UINT64 also as decimal strings, the only exact
 * form beyond 2^53), booleans for BOOL, strings for BYTES (UTF-8). Anything else is a 400
 * naming the input, the value and the rule.
 */
export function jsonTensorData(name: string, datatype: Datatype, shape: readonly number[], data: unknown): Buffer {
  if (!Array.isArray(data)) throw invalid(`input '${name}': 'data' must be an array of the tensor's values (flat or nested, row-major), got ${describeJson(data)}`);
  const flat: unknown[] = [];
  flatten(data, flat);
  const expected = elementCount(shape);
  if (flat.length !== expected) {
    throw invalid(`input '${name}' has ${flat.length} value${flat.length === 1 ? '' : 's'} in 'data' but its shape ${formatShape(shape)} needs ${expected}`);
  }
  const check = elementRule(datatype);
  for (let index = 0; index < flat.length; index++) {
    const problem = check(flat[index]);
    if (problem !== null) throw invalid(`input '${name}' (${datatype}) value #${index} is ${describeJson(flat[index])}: ${problem}`);
  }
  try {
    return tensorFromJson(name, datatype, shape, flat as JsonTensorValue[]).data;
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
}

function flatten(value: unknown[], out: unknown[]): void {
  for (const item of value) {
    if (Array.isArray(item)) flatten(item, out);
    else out.push(item);
  }
}

/** A check of one value for the datatype: null when it fits, else the rule it breaks. */
function elementRule(datatype: Datatype): (value: unknown) => string | null {
  switch (datatype) {
    case 'BOOL': return (value) => (typeof value === 'boolean' ? null : 'expected true or false');
    case 'BYTES': return (value) => (typeof value === 'string' ? null : 'expected a string');
    case 'FP16': case 'BF16': case 'FP32': case 'FP64':
      return (value) => (typeof value === 'number' ? null : 'expected a number');
    default: {
      const [min, max] = INTEGER_RANGES[datatype] as readonly [bigint, bigint];
      const range: IntegerRange = { min, max, low: Number(min), high: Number(max), wide: datatype === 'INT64' || datatype === 'UINT64' };
      return (value) => integerProblem(value, range);
    }
  }
}

interface IntegerRange {
  readonly min: bigint;
  readonly max: bigint;
  /** min and max as doubles: exact enough to compare with any safe integer. */
  readonly low: number;
  readonly high: number;
  /** INT64/UINT64: decimal strings are accepted too. */
  readonly wide: boolean;
}

function integerProblem(value: unknown, { min, max, low, high, wide }: IntegerRange): string | null {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return 'expected an integer';
    if (!Number.isSafeInteger(value)) return `a JSON number beyond ±2^53 is not exact${wide ? '; send it as a decimal string or as binary data' : ''}`;
    return value < low || value > high ? `out of range [${min}, ${max}]` : null;
  }
  if (!wide || typeof value !== 'string' || !DECIMAL.test(value)) return wide ? 'expected an integer (a number, or a decimal string)' : 'expected an integer';
  const integer = BigInt(value);
  return integer < min || integer > max ? `out of range [${min}, ${max}]` : null;
}
