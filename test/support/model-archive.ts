import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildTarGz } from './archive-builders';

/** A .tar.gz of the given files (path -> content), directories implied, as an upload body. */
export async function tarGz(files: Readonly<Record<string, string | Buffer>>): Promise<Buffer> {
  return buildTarGz(Object.entries(files).map(([name, content]) => ({ name, data: typeof content === 'string' ? Buffer.from(content) : content })));
}

/** Every file under `folder` (relative path -> bytes), e.g. a sample model to upload. */
export function folderFiles(folder: string, prefix = ''): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    const relative = prefix === '' ? name : `${prefix}/${name}`;
    if (statSync(path).isDirectory()) Object.assign(files, folderFiles(path, relative));
    else files[relative] = readFileSync(path);
  }
  return files;
}

/** Every entry under `folder` (directories too, as "dir"), with file bytes as base64: compared before and after to prove a folder unchanged. */
export function folderSnapshot(folder: string, prefix = ''): Map<string, string> {
  const snapshot = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(join(folder, prefix));
  } catch {
    return snapshot;
  }
  for (const name of names) {
    const relative = prefix === '' ? name : `${prefix}/${name}`;
    const path = join(folder, relative);
    if (statSync(path).isDirectory()) {
      snapshot.set(relative, 'dir');
      for (const [key, value] of folderSnapshot(folder, relative)) snapshot.set(key, value);
    } else {
      snapshot.set(relative, readFileSync(path).toString('base64'));
    }
  }
  return snapshot;
}
