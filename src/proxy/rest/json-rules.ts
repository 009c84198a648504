import { TriageError } from '../../errors/triage-error';

/** A JSON value as a message shows it: its kind, and a short preview of a string. */
export function describeJson(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}

/** A request the client must fix: 400 on the REST port. */
export function invalid(message: string): TriageError {
  return new TriageError('INVALID_ARGUMENT', message);
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `object[key]` when it is a string (or absent and optional); else a 400 naming `where` and the rule. */
export function stringMember(object: Record<string, unknown>, key: string, where: string, optional: true): string | undefined;
export function stringMember(object: Record<string, unknown>, key: string, where: string, optional?: false): string;
export function stringMember(object: Record<string, unknown>, key: string, where: string, optional = false): string | undefined {
  const value = object[key];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string') throw invalid(`${where}: '${key}' must be a string, got ${describeJson(value)}`);
  return value;
}
