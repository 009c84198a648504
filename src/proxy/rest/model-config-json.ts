import * as protobuf from 'protobufjs';
import { modelConfigType } from '../../repository/model-config-schema';
import { JsonInteger } from './exact-json';

/**
 * The 64-bit fields Triton writes as JSON numbers in its HTTP `config` answer; every other
 * 64-bit field keeps protobuf's string form. Triton (core ModelConfigToJson) fixes exactly
 * these up after protobuf's printer; it misses InitialState.dims (it looks for
 * initial_state beside `state` instead of inside it), CUDA graph dims and secondary device
 * ids, and JSON object keys are always strings.
 */
const NUMBER_FIELDS = new Set([
  '.inference.ModelInput.dims',
  '.inference.ModelOutput.dims',
  '.inference.ModelTensorReshape.shape',
  '.inference.ModelVersionPolicy.Specific.versions',
  '.inference.ModelDynamicBatching.max_queue_delay_microseconds',
  '.inference.ModelDynamicBatching.priority_levels',
  '.inference.ModelDynamicBatching.default_priority_level',
  '.inference.ModelQueuePolicy.default_timeout_microseconds',
  '.inference.ModelSequenceBatching.max_sequence_idle_microseconds',
  '.inference.ModelSequenceBatching.StrategyDirect.max_queue_delay_microseconds',
  '.inference.ModelSequenceBatching.StrategyOldest.max_queue_delay_microseconds',
  '.inference.ModelSequenceBatching.State.dims',
  '.inference.ModelEnsembling.Step.model_version',
  '.inference.ModelWarmup.Input.dims',
]);

const INT64_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/**
 * A ModelConfig, as our proto loader decodes it (defaults filled in, 64-bit integers as
 * strings, enums by name, oneof markers), in the JSON Triton's `GET .../config` returns:
 * protobuf's JSON mapping with .proto field names and every implicit-presence field
 * printed (always_print_primitive_fields), unset messages and oneof members left out,
 * floats at their shortest float32 spelling, and the 64-bit fields above as numbers.
 * Write the result with stringifyExact.
 */
export function modelConfigJson(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return writeMessage(modelConfigType(), config);
}

function writeMessage(type: protobuf.Type, message: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const value = message[field.name];
    if (value === undefined || value === null) continue;
    if (field instanceof protobuf.MapField) {
      const keyOf = INT64_TYPES.has(field.keyType) ? int64MapKey(field.keyType) : (key: string): string => key;
      json[field.name] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, item]) => [keyOf(key), writeValue(type, field, item)]));
    } else if (field.repeated) {
      json[field.name] = (value as unknown[]).map((item) => writeValue(type, field, item));
    } else {
      json[field.name] = writeValue(type, field, value);
    }
  }
  return json;
}

function writeValue(owner: protobuf.Type, field: protobuf.Field, value: unknown): unknown {
  const resolved = field.resolve().resolvedType;
  if (resolved instanceof protobuf.Type) return writeMessage(resolved, value as Record<string, unknown>);
  if (resolved instanceof protobuf.Enum) return typeof value === 'number' ? resolved.valuesById[value] ?? value : value;
  if (INT64_TYPES.has(field.type)) return NUMBER_FIELDS.has(`${owner.fullName}.${field.name}`) ? new JsonInteger(String(value)) : String(value);
  if (field.type === 'float' || field.type === 'double') {
    const number = value as number;
    if (Number.isNaN(number)) return 'NaN';
    if (!Number.isFinite(number)) return number > 0 ? 'Infinity' : '-Infinity';
    return field.type === 'float' ? shortestFloat32(number) : number;
  }
  if (field.type === 'bytes') return Buffer.from(value as Uint8Array).toString('base64');
  return value;
}

/**
 * When it has Long support (our proto loader's protobufjs does), protobufjs keys a map
 * with 64-bit integer keys by an 8-character hash of the key's bits (util.longToHash);
 * JSON wants the decimal key, as protobuf's printer writes it.
 */
function int64MapKey(keyType: string): (key: string) => string {
  const unsigned = keyType.startsWith('u') || keyType === 'fixed64';
  const hashed = Boolean(protobuf.util.Long);
  return (key) => {
    if (!hashed || key.length !== 8) return key;
    const bits = protobuf.util.LongBits.fromHash(key);
    const value = (BigInt(bits.hi >>> 0) << 32n) | BigInt(bits.lo >>> 0);
    return String(unsigned ? value : BigInt.asIntN(64, value));
  };
}

/** The shortest decimal that reads back as the same float32, as protobuf's printer writes a float. */
function shortestFloat32(value: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}
