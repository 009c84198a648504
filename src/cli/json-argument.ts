import { readFileSync } from 'node:fs';

/**
 * A JSON object given on the command line: the text itself, or `@path` to read it from a
 * file. Throws an Error naming the option when it is not valid JSON or not an object.
 */
export function jsonObjectArgument(value: string, option: string, example: string): Record<string, unknown> {
  const text = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${option} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${option} must be a JSON object: ${example}`);
  }
  return parsed as Record<string, unknown>;
}
