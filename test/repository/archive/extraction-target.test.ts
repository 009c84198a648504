import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TriageError } from '../../../src/errors/triage-error';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from '../../../src/repository/archive/archive-limits';
import { CompressionRatioGuard } from '../../../src/repository/archive/compression-ratio-guard';
import { ExtractionTarget } from '../../../src/repository/archive/extraction-target';
import { ExtractionScratch, sha256 } from './extraction-scratch';

/** Content that arrives in `count` chunks of `chunkBytes`, whatever any header declared. */
async function* chunks(count: number, chunkBytes: number): AsyncGenerator<Buffer> {
  for (let index = 0; index < count; index += 1) yield Buffer.alloc(chunkBytes, index);
}

function isRefusal(...fragments: string[]): (error: unknown) => boolean {
  return (error) => error instanceof TriageError && error.code === 'INVALID_ARGUMENT' && fragments.every((fragment) => error.message.includes(fragment));
}

describe('ExtractionTarget', () => {
  const scratch = new ExtractionScratch();
  after(() => scratch.remove());
  const open = (limits: Partial<ArchiveLimits> = {}): Promise<ExtractionTarget> =>
    ExtractionTarget.open(scratch.destination(), { ...DEFAULT_ARCHIVE_LIMITS, ...limits });

  it('counts the bytes actually written, not the declared size, against maxFileBytes and maxTotalBytes', async () => {
    const target = await open({ maxFileBytes: 2048, maxTotalBytes: 3000 });
    const lying = target.admit('m/lying', 'file', 10);
    assert.ok(lying !== null);
    await assert.rejects(target.writeFile(lying, chunks(3, 1024)), isRefusal("archive entry 'm/lying' is larger than 2048 bytes (limit maxFileBytes)"));
    const small = target.admit('m/small', 'file', 0);
    assert.ok(small !== null);
    await target.writeFile(small, chunks(2, 1000));
    const third = target.admit('m/third', 'file', 0);
    assert.ok(third !== null);
    await assert.rejects(target.writeFile(third, chunks(2, 600)), isRefusal("archive entry 'm/third' brings the uncompressed total over 3000 bytes"));
    // Writing stopped before the chunk that crossed the limit.
    assert.equal(statSync(join(target.destination, 'm', 'lying')).size, 2048);
    await target.clear();
    assert.deepEqual(readdirSync(target.destination), []);
  });

  it('writes files 0644 and directories 0755 whatever the umask, and hashes what it wrote', async () => {
    const previous = process.umask(0o077);
    try {
      const target = await open();
      const directory = target.admit('m/empty/', 'directory');
      const file = target.admit('m/1/model.onnx', 'file', 0);
      assert.ok(directory !== null && file !== null);
      await target.writeDirectory(directory);
      await target.writeFile(file, chunks(3, 100));
      const modeOf = (path: string): number => statSync(join(target.destination, path)).mode & 0o7777;
      assert.deepEqual(['m', 'm/empty', 'm/1', 'm/1/model.onnx'].map(modeOf), [0o755, 0o755, 0o755, 0o644]);
      const tree = target.tree();
      assert.equal(tree.topLevelName, 'm');
      assert.deepEqual(tree.files, [{ path: '1/model.onnx', sizeBytes: 300, sha256: sha256(Buffer.concat([Buffer.alloc(100, 0), Buffer.alloc(100, 1), Buffer.alloc(100, 2)])) }]);
    } finally {
      process.umask(previous);
    }
  });

  it('skips macOS junk and the root entry, but counts them against maxFiles', async () => {
    const target = await open({ maxFiles: 3 });
    assert.equal(target.admit('./', 'directory'), null);
    assert.equal(target.admit('__MACOSX/m/._a', 'file'), null);
    assert.equal(target.admit('m/.DS_Store', 'file'), null);
    assert.throws(() => target.admit('m/a', 'file'), isRefusal('archive has more than 3 entries (limit maxFiles)'));
  });
});

describe('CompressionRatioGuard', () => {
  it('allows any ratio up to 1 MiB uncompressed, then refuses past maxCompressionRatio', () => {
    const guard = new CompressionRatioGuard({ maxCompressionRatio: 100 });
    guard.addCompressed(20_000);
    guard.addUncompressed(1024 * 1024);
    guard.addUncompressed(2_000_000 - 1024 * 1024); // exactly 100 times
    assert.throws(() => guard.addUncompressed(1), isRefusal('archive inflates to more than 100 times its compressed size', '(2000001 bytes from 20000'));

    const small = new CompressionRatioGuard({ maxCompressionRatio: 100 });
    small.addCompressed(10);
    small.addUncompressed(1024 * 1024); // 100,000 times, but under the 1 MiB floor
  });
});
