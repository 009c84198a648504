/**
 * An integer that JSON text carries digit for digit. Our proto loader decodes 64-bit
 * integers as decimal strings (lossless); Triton's HTTP API writes them as JSON numbers,
 * which JSON.stringify could only do through a JS number, losing precision beyond 2^53.
 */
export class JsonInteger {
  constructor(readonly digits: string) {}
}

const INTEGER = /^-?(0|[1-9][0-9]*)$/;

/**
 * JSON.stringify for the small documents of the REST API (metadata, config, statistics)
 * that may hold JsonIntegers: each is written as a bare number. A JsonInteger whose text
 * is not an integer is written as a string, so upstream text can never inject JSON.
 */
export function stringifyExact(value: unknown): string {
  if (value instanceof JsonInteger) return INTEGER.test(value.digits) ? value.digits : JSON.stringify(value.digits);
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : stringifyExact(item))).join(',')}]`;
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
    const members: string[] = [];
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) members.push(`${JSON.stringify(key)}:${stringifyExact(item)}`);
    }
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
