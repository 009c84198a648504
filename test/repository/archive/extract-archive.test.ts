import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { TriageError } from '../../../src/errors/triage-error';
import { DEFAULT_ARCHIVE_LIMITS } from '../../../src/repository/archive/archive-limits';
import { extractArchive } from '../../../src/repository/archive/extract-archive';
import { buildTarGz, buildYazlZip } from '../../support/archive-builders';
import { ExtractionScratch, listTree, sha256 } from './extraction-scratch';
import { buildZip } from '../../support/zip-writer';

const CONFIG = Buffer.from('name: "mymodel"\nbackend: "onnxruntime"\nmax_batch_size: 8\n');
const WEIGHTS = randomBytes(300 * 1024);
const EXPECTED_FILES = [
  { path: '1/model.onnx', sizeBytes: WEIGHTS.length, sha256: sha256(WEIGHTS) },
  { path: 'config.pbtxt', sizeBytes: CONFIG.length, sha256: sha256(CONFIG) },
];
const EXPECTED_LISTING = new Map([
  ['mymodel', 'directory 755'],
  ['mymodel/1', 'directory 755'],
  ['mymodel/1/model.onnx', `file 644 ${sha256(WEIGHTS)}`],
  ['mymodel/2', 'directory 755'],
  ['mymodel/config.pbtxt', `file 644 ${sha256(CONFIG)}`],
]);

describe('extractArchive: well-formed archives', () => {
  const scratch = new ExtractionScratch();
  after(() => scratch.remove());

  it('extracts a .tar.gz and a zip of the same folder to identical trees, hashes and sizes', async () => {
    // Modes from the archive (setuid, world-writable) are ignored; macOS junk is skipped.
    const tarGz = await buildTarGz([
      { name: 'mymodel/', type: 'directory', mode: 0o777 },
      { name: 'mymodel/config.pbtxt', data: CONFIG, mode: 0o4755 },
      { name: 'mymodel/1/model.onnx', data: WEIGHTS, mode: 0o666 },
      { name: 'mymodel/2/', type: 'directory' },
      { name: 'mymodel/.DS_Store', data: Buffer.from('junk') },
      { name: 'mymodel/1/._model.onnx', data: Buffer.from('junk') },
      { name: '__MACOSX/mymodel/._config.pbtxt', data: Buffer.from('junk') },
    ]);
    const zip = await buildYazlZip(
      { 'mymodel/config.pbtxt': CONFIG, 'mymodel/1/model.onnx': WEIGHTS, 'mymodel/.DS_Store': Buffer.from('junk'), '__MACOSX/mymodel/._config.pbtxt': Buffer.from('junk') },
      ['mymodel/2/'],
      0o104777,
    );
    for (const [archive, format] of [[tarGz, 'tar.gz'], [zip, 'zip']] as const) {
      const { tree, destination } = await scratch.extract(archive, format);
      assert.equal(tree.topLevelName, 'mymodel', format);
      assert.equal(tree.root, join(destination, 'mymodel'), format);
      assert.deepEqual(tree.files, EXPECTED_FILES, format);
      assert.equal(tree.totalBytes, CONFIG.length + WEIGHTS.length, format);
      assert.deepEqual(listTree(destination), EXPECTED_LISTING, format);
    }
  });

  it('takes the destination as root when entries do not share one top-level directory', async () => {
    const loose = await scratch.extract(await buildTarGz([{ name: 'config.pbtxt', data: CONFIG }, { name: '1/model.onnx', data: WEIGHTS }]), 'tar.gz');
    assert.equal(loose.tree.topLevelName, null);
    assert.equal(loose.tree.root, loose.destination);
    assert.deepEqual(loose.tree.files, EXPECTED_FILES);

    const two = await scratch.extract(buildZip([{ name: 'a/x', data: CONFIG }, { name: 'b/y', data: CONFIG }]), 'zip');
    assert.equal(two.tree.topLevelName, null);
    assert.deepEqual(two.tree.files.map((file) => file.path), ['a/x', 'b/y']);

    const singleFile = await scratch.extract(buildZip([{ name: 'model.onnx', data: WEIGHTS }]), 'zip');
    assert.equal(singleFile.tree.topLevelName, null);
    assert.deepEqual(singleFile.tree.files.map((file) => file.path), ['model.onnx']);
  });

  it('finds the top-level directory through ./ prefixes, implied directories and a version folder', async () => {
    const dotted = await scratch.extract(await buildTarGz([{ name: './', type: 'directory' }, { name: './mymodel/config.pbtxt', data: CONFIG }]), 'tar.gz');
    assert.equal(dotted.tree.topLevelName, 'mymodel');
    assert.deepEqual(dotted.tree.files.map((file) => file.path), ['config.pbtxt']);

    const version = await scratch.extract(buildZip([{ name: '3/model.onnx', data: WEIGHTS, method: 0 }]), 'zip');
    assert.equal(version.tree.topLevelName, '3');
    assert.equal(version.tree.root, join(version.destination, '3'));
    assert.deepEqual(version.tree.files, [{ path: 'model.onnx', sizeBytes: WEIGHTS.length, sha256: sha256(WEIGHTS) }]);
  });

  it('refuses an archive that holds no file', async () => {
    await scratch.assertRefused(await buildTarGz([{ name: 'mymodel/', type: 'directory' }]), 'tar.gz', ['archive holds no files']);
    await scratch.assertRefused(buildZip([{ name: '__MACOSX/._x', data: CONFIG }]), 'zip', ['archive holds no files']);
  });

  it('leaves a refused upload stream undestroyed and a failing one reported as its own error', async () => {
    // Still sending when refused: an HTTP handler must still be able to answer on it.
    const refused = new PassThrough();
    refused.write(Buffer.from('not a gzip stream at all'));
    await assert.rejects(extractArchive(refused, 'tar.gz', scratch.destination(), DEFAULT_ARCHIVE_LIMITS), /not a valid gzip stream/);
    assert.equal(refused.destroyed, false);
    assert.equal(refused.listenerCount('data'), 0, 'unpiped');
    refused.destroy();

    const aborted = new PassThrough();
    aborted.write((await buildTarGz([{ name: 'm/a', data: WEIGHTS }])).subarray(0, 1000));
    const abortedDestination = scratch.destination();
    const failing = extractArchive(aborted, 'tar.gz', abortedDestination, DEFAULT_ARCHIVE_LIMITS);
    setImmediate(() => aborted.destroy(new Error('client went away')));
    await assert.rejects(failing, (error: unknown) => !(error instanceof TriageError) && (error as Error).message === 'client went away');
    assert.deepEqual(readdirSync(abortedDestination), []);
  });

  it('refuses a destination that is not empty', async () => {
    const destination = scratch.destination();
    const first = await extractArchive(await uploadTarGz(), 'tar.gz', destination, DEFAULT_ARCHIVE_LIMITS);
    assert.equal(first.files.length, 1);
    await assert.rejects(extractArchive(await uploadTarGz(), 'tar.gz', destination, DEFAULT_ARCHIVE_LIMITS), /is not empty/);
    assert.deepEqual([...listTree(destination).keys()], ['m', 'm/a'], 'the earlier extraction is untouched');
  });
});

async function uploadTarGz(): Promise<PassThrough> {
  const stream = new PassThrough();
  stream.end(await buildTarGz([{ name: 'm/a', data: CONFIG }]));
  return stream;
}
