import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface FolderDigest {
  /** SHA-256 over the sorted `<relative path>\0<file sha256>\n` lines: equal folders, equal digests. */
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly files: number;
}

/** Hashes every regular file under `folder` (streamed; symbolic links are followed only if Node's stat does, never written). */
export async function digestFolder(folder: string): Promise<FolderDigest> {
  const lines: string[] = [];
  let sizeBytes = 0;
  for (const path of await listFiles(folder, '')) {
    const { sha256, size } = await hashFile(join(folder, path));
    lines.push(`${path}\0${sha256}\n`);
    sizeBytes += size;
  }
  lines.sort();
  return { sha256: createHash('sha256').update(lines.join('')).digest('hex'), sizeBytes, files: lines.length };
}

async function listFiles(root: string, prefix: string): Promise<string[]> {
  const entries = await readdir(join(root, prefix), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...await listFiles(root, path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    createReadStream(path)
      .on('data', (chunk) => {
        size += chunk.length;
        hash.update(chunk);
      })
      .on('error', reject)
      .on('end', () => resolve({ sha256: hash.digest('hex'), size }));
  });
}
