import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';
import { ZipFile } from 'yazl';

/** One tar entry; `data` only for regular files. Any name and type can be written. */
export interface TarEntrySpec {
  readonly name: string;
  readonly type?: Header['type'];
  readonly data?: Buffer;
  readonly mode?: number;
  readonly linkname?: string;
}

/** An uncompressed tar of `entries`, in order. */
export async function buildTar(entries: readonly TarEntrySpec[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  for (const spec of entries) {
    const type = spec.type ?? 'file';
    const header = { name: spec.name, type, mode: spec.mode ?? (type === 'directory' ? 0o755 : 0o644), ...(spec.linkname === undefined ? {} : { linkname: spec.linkname }) };
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (type === 'file') archive.entry(header, spec.data ?? Buffer.alloc(0), done);
      else archive.entry(header, done);
    });
  }
  archive.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export async function buildTarGz(entries: readonly TarEntrySpec[]): Promise<Buffer> {
  return gzipSync(await buildTar(entries));
}

/**
 * A .tar.gz holding one file of `sizeBytes` zero bytes, compressed while streaming so that
 * building a large bomb never holds it in memory.
 */
export async function buildZeroFileTarGz(name: string, sizeBytes: number): Promise<Buffer> {
  const archive = pack();
  const gzip = createGzip({ level: 9 });
  archive.pipe(gzip);
  const chunks: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const sink = archive.entry({ name, size: sizeBytes });
  const zeros = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < sizeBytes; written += zeros.length) {
    const chunk = zeros.subarray(0, Math.min(zeros.length, sizeBytes - written));
    if (!sink.write(chunk)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
  }
  sink.end(null);
  archive.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** `tar` with the type flag of the header at `headerOffset` replaced and its checksum redone. */
export function withTypeFlag(tar: Buffer, headerOffset: number, flag: string): Buffer {
  const patched = Buffer.from(tar);
  const header = patched.subarray(headerOffset, headerOffset + 512);
  header.write(flag, 156, 'latin1');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return patched;
}

/** A zip written by yazl, the way a well-behaved tool writes one. */
export async function buildYazlZip(files: Readonly<Record<string, Buffer>>, directories: readonly string[] = [], mode = 0o100644): Promise<Buffer> {
  const zip = new ZipFile();
  for (const directory of directories) zip.addEmptyDirectory(directory);
  for (const [name, data] of Object.entries(files)) zip.addBuffer(data, name, { mode });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** `buffer` as an upload body arriving in chunks of `chunkBytes`. */
export function uploadOf(buffer: Buffer, chunkBytes = 16 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; offset += chunkBytes) chunks.push(buffer.subarray(offset, offset + chunkBytes));
  return Readable.from(chunks);
}
