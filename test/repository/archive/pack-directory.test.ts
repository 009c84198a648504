import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { TriageError } from '../../../src/errors/triage-error';
import { packDirectory } from '../../../src/repository/archive/pack-directory';
import { ExtractionScratch, listTree, sha256 } from './extraction-scratch';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('packDirectory', () => {
  const scratch = new ExtractionScratch();
  after(() => scratch.remove());

  /** A model folder named `name` with a config, two versions (one empty) and a long nested name. */
  function modelFolder(name: string): { folder: string; files: Map<string, Buffer> } {
    const folder = join(scratch.destination(), name);
    const longName = `${'n'.repeat(150)}.bin`;
    const files = new Map<string, Buffer>([
      ['config.pbtxt', Buffer.from(`name: "${name}"\n`)],
      ['1/model.onnx', randomBytes(200 * 1024)],
      [`1/assets/${longName}`, randomBytes(10)],
      ['empty.txt', Buffer.alloc(0)],
    ]);
    mkdirSync(join(folder, '1', 'assets'), { recursive: true });
    mkdirSync(join(folder, '2'));
    for (const [path, data] of files) writeFileSync(join(folder, path), data);
    chmodSync(join(folder, 'config.pbtxt'), 0o600);
    return { folder, files };
  }

  it('round-trips a folder: extracting the pack gives the same files and hashes under its name', async () => {
    const { folder, files } = modelFolder('mymodel');
    const archive = await collect(packDirectory(folder));
    const { tree, destination } = await scratch.extract(archive, 'tar.gz');
    assert.equal(tree.topLevelName, 'mymodel');
    assert.equal(tree.root, join(destination, 'mymodel'));
    const expected = [...files].map(([path, data]) => ({ path, sizeBytes: data.length, sha256: sha256(data) }));
    expected.sort((a, b) => (a.path < b.path ? -1 : 1));
    assert.deepEqual(tree.files, expected);
    // The same paths and contents, the empty version folder included (modes are normalised).
    const contentOnly = (listing: Map<string, string>): string[] => [...listing].map(([path, description]) => `${path} ${description.replace(/ [0-7]+( |$)/, '$1')}`);
    assert.deepEqual(contentOnly(listTree(tree.root)), contentOnly(listTree(folder)));
  });

  it('fails the stream with INVALID_ARGUMENT naming a symbolic link inside the folder', async () => {
    const { folder } = modelFolder('linked');
    symlinkSync('/etc/passwd', join(folder, '1', 'passwd'));
    await assert.rejects(
      collect(packDirectory(folder)),
      (error: unknown) => error instanceof TriageError && error.code === 'INVALID_ARGUMENT' && error.message.includes(`${join(folder, '1', 'passwd')}: it is a symbolic link`),
    );
  });

  it('fails the stream when the folder does not exist or is not a directory', async () => {
    await assert.rejects(collect(packDirectory(join(scratch.path, 'missing'))), /ENOENT/);
    const { folder } = modelFolder('plain');
    await assert.rejects(collect(packDirectory(join(folder, 'config.pbtxt'))), /is not a directory/);
  });
});
