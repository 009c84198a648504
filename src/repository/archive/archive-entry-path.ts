import { entryRefusal } from './archive-refusal';

export const MAX_ENTRY_PATH_BYTES = 1024;
export const MAX_ENTRY_PATH_DEPTH = 32;

/**
 * The segments of an archive entry's path, or a refusal naming the entry and the rule it
 * breaks. Invariant of the result: no segment is empty, '.', '..', or holds '/', '\\', NUL or
 * a control character, so joining the segments under a directory stays under it.
 * Empty and '.' segments are dropped ('./a//b' is 'a/b'); the result is empty for the
 * archive's own root ('./').
 */
export function entryPathSegments(name: string): string[] {
  if (/[\u0000-\u001f\u007f]/.test(name)) throw entryRefusal(name, 'has a control character in its name');
  if (Buffer.byteLength(name, 'utf8') > MAX_ENTRY_PATH_BYTES) {
    throw entryRefusal(name, `has a path longer than ${MAX_ENTRY_PATH_BYTES} bytes`);
  }
  if (/^[A-Za-z]:/.test(name)) throw entryRefusal(name, 'names a Windows drive (absolute paths are refused)');
  if (name.startsWith('/')) throw entryRefusal(name, 'is an absolute path');
  if (name.includes('\\')) throw entryRefusal(name, 'has a backslash in its path (Windows paths are refused)');
  const segments = name.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw entryRefusal(name, 'leaves the model folder');
  if (segments.length > MAX_ENTRY_PATH_DEPTH) {
    throw entryRefusal(name, `is nested deeper than ${MAX_ENTRY_PATH_DEPTH} levels`);
  }
  return segments;
}

/** macOS archive junk, never extracted: `__MACOSX/` folders, `._*` AppleDouble files, `.DS_Store`. */
export function isMacJunk(segments: readonly string[]): boolean {
  const last = segments[segments.length - 1];
  if (last === undefined) return false;
  return segments.includes('__MACOSX') || last.startsWith('._') || last === '.DS_Store';
}
