import { JsonInteger } from './exact-json';

/**
 * Fields of ModelStatistics and its nested messages that are 64-bit integers (decoded as
 * strings by our proto loader). Every other string in the message is text: name,
 * version, a memory usage's type, response_stats keys.
 */
const INTEGER_FIELDS = new Set(['last_inference', 'inference_count', 'execution_count', 'count', 'ns', 'batch_size', 'id', 'byte_size']);

/**
 * A ModelStatisticsResponse in the JSON of Triton's `GET .../stats`: the message's field
 * names, with every counter and duration as a JSON number (exact; write the result with
 * stringifyExact).
 */
export function statisticsJson(modelStats: readonly Record<string, unknown>[]): Record<string, unknown> {
  return { model_stats: modelStats.map((stats) => convert(stats, '')) };
}

function convert(value: unknown, key: string): unknown {
  if (Array.isArray(value)) return value.map((item) => convert(item, key));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([field, item]) => [field, convert(item, field)]));
  }
  if (INTEGER_FIELDS.has(key) && (typeof value === 'string' || typeof value === 'number')) return new JsonInteger(String(value));
  return value;
}
