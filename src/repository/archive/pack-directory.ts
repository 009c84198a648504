import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Pack } from 'tar-stream';
import { TriageError } from '../../errors/triage-error';

/**
 * A .tar.gz of a folder, streamed: the folder's own name is the single top-level directory
 * and every entry is named `<folder>/<relative path>` with '/' separators, in sorted order.
 * Only regular files and directories go in, with modes 0o644 / 0o755 and no owner; a
 * symbolic link or any other kind of file inside the folder fails the stream with
 * INVALID_ARGUMENT naming it. Filesystem failures fail the stream as they are.
 */
export function packDirectory(directory: string): Readable {
  const pack = tarPack();
  // Level 1: model weights barely compress at any level, and level 1 packs them several times faster than the default 6.
  const gzip = createGzip({ level: 1 });
  pack.on('error', (error: Error) => gzip.destroy(error));
  pack.pipe(gzip);
  const folder = resolve(directory);
  addFolder(pack, folder, basename(folder)).then(
    () => pack.finalize(),
    (error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      gzip.destroy(failure);
      pack.destroy(failure);
    },
  );
  return gzip;
}

async function addFolder(pack: Pack, folder: string, topLevelName: string): Promise<void> {
  const stats = await lstat(folder);
  if (!stats.isDirectory()) throw new TriageError('INVALID_ARGUMENT', `${folder} is not a directory`);
  await addEntry(pack, { name: topLevelName, type: 'directory', mode: 0o755, mtime: stats.mtime });
  await addChildren(pack, folder, topLevelName);
}

async function addChildren(pack: Pack, path: string, name: string): Promise<void> {
  const children = (await readdir(path)).sort();
  for (const child of children) {
    const childPath = join(path, child);
    const childName = `${name}/${child}`;
    const stats = await lstat(childPath);
    if (stats.isDirectory()) {
      await addEntry(pack, { name: childName, type: 'directory', mode: 0o755, mtime: stats.mtime });
      await addChildren(pack, childPath, childName);
    } else if (stats.isFile()) {
      const sink = pack.entry({ name: childName, type: 'file', mode: 0o644, size: stats.size, mtime: stats.mtime });
      await pipeline(createReadStream(childPath), sink);
    } else {
      const what = stats.isSymbolicLink() ? 'a symbolic link' : 'neither a regular file nor a directory';
      throw new TriageError('INVALID_ARGUMENT', `cannot pack ${childPath}: it is ${what} (a model folder holds only regular files and directories)`);
    }
  }
}

function addEntry(pack: Pack, header: Parameters<Pack['entry']>[0]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    pack.entry(header, (error) => (error === null || error === undefined ? resolvePromise() : reject(error)));
  });
}
