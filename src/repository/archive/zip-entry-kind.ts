import type { Entry } from 'yauzl';
import { entryRefusal, entryTypeRefusal } from './archive-refusal';
import type { EntryKind } from './entry-path-tree';

const FILE_TYPE_MASK = 0o170000;
const UNIX_TYPES: ReadonlyMap<number, EntryKind | string> = new Map([
  [0o100000, 'file'],
  [0o040000, 'directory'],
  [0o120000, 'a symbolic link'],
  [0o020000, 'a character device'],
  [0o060000, 'a block device'],
  [0o010000, 'a FIFO'],
  [0o140000, 'a socket'],
]);
const MS_DOS_DIRECTORY = 0x10;

/**
 * Whether a zip entry is a regular file or a directory, refusing every other kind. The
 * unix mode (high 16 bits of the external attributes, whichever system wrote the entry)
 * decides when present; otherwise a trailing '/' or the MS-DOS directory attribute makes a
 * directory.
 */
export function zipEntryKind(entry: Entry, name: string): EntryKind {
  const unixType = (entry.externalFileAttributes >>> 16) & FILE_TYPE_MASK;
  const namedDirectory = name.endsWith('/');
  if (unixType !== 0) {
    const kind = UNIX_TYPES.get(unixType) ?? 'of an unknown unix file type';
    if (kind !== 'file' && kind !== 'directory') throw entryTypeRefusal(name, kind);
    if (kind === 'file' && namedDirectory) throw entryRefusal(name, 'is named as a directory but its mode says regular file');
    return kind;
  }
  return namedDirectory || (entry.externalFileAttributes & MS_DOS_DIRECTORY) !== 0 ? 'directory' : 'file';
}
