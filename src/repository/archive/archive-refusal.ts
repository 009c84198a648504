import { TriageError } from '../../errors/triage-error';

const SHOWN_NAME_CHARS = 200;

/**
 * An entry name as it may appear in an error message and a log line: control, line-separator
 * and bidirectional-override characters are escaped and long names shortened, so a hostile name can neither
 * forge log lines nor flood them.
 */
export function printableEntryName(name: string): string {
  const escaped = name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > SHOWN_NAME_CHARS ? `${escaped.slice(0, SHOWN_NAME_CHARS)}...` : escaped;
}

/** Refusal of one entry: `archive entry '<name>' <rule>`. */
export function entryRefusal(name: string, rule: string): TriageError {
  return new TriageError('INVALID_ARGUMENT', `archive entry '${printableEntryName(name)}' ${rule}`);
}

/** Refusal of the archive as a whole: `archive <rule>`. */
export function archiveRefusal(rule: string, cause?: unknown): TriageError {
  return new TriageError('INVALID_ARGUMENT', `archive ${rule}`, cause === undefined ? {} : { cause });
}

/** The message of anything thrown, for inclusion in a refusal. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Refusal of an entry that is neither a regular file nor a directory; `what` is e.g. 'a symbolic link'. */
export function entryTypeRefusal(name: string, what: string): TriageError {
  return entryRefusal(name, `is ${what}; only regular files and directories are accepted`);
}
