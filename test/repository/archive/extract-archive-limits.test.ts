import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { buildTar, buildTarGz, buildZeroFileTarGz } from '../../support/archive-builders';
import { ExtractionScratch } from './extraction-scratch';
import { buildZip, type ZipEntrySpec } from '../../support/zip-writer';

const MIB = 1024 * 1024;

describe('extractArchive: limits, bombs and corrupt archives', () => {
  const scratch = new ExtractionScratch();
  after(() => scratch.remove());

  it('refuses a 100,000-entry zip from its central directory count, before writing anything', async () => {
    const entries: ZipEntrySpec[] = Array.from({ length: 100_000 }, (_, index) => ({ name: `m/${index}`, method: 0 }));
    const zip = buildZip(entries);
    const started = Date.now();
    await scratch.assertRefused(zip, 'zip', ['archive has 100000 entries, more than 10000 (limit maxFiles)']);
    assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
  });

  it('refuses a .tar.gz with too many entries once the count is passed, removing what it wrote', async () => {
    const entries = Array.from({ length: 50 }, (_, index) => ({ name: `m/${index}.txt`, data: Buffer.from(`file ${index}`) }));
    await scratch.assertRefused(await buildTarGz(entries), 'tar.gz', ['archive has more than 20 entries (limit maxFiles)'], { maxFiles: 20 });
  });

  it('stops inflating a .tar.gz bomb as soon as the ratio is crossed', async () => {
    const bomb = await buildZeroFileTarGz('m/zeros.bin', 256 * MIB);
    assert.ok(bomb.length < 400 * 1024, `bomb of ${bomb.length} bytes`);
    const started = Date.now();
    await scratch.assertRefused(bomb, 'tar.gz', ['archive inflates to more than 100 times its compressed size', 'maxCompressionRatio']);
    // Inflating and writing all 256 MiB would take far longer than stopping near 1 MiB.
    assert.ok(Date.now() - started < 1_500, `took ${Date.now() - started} ms`);
  });

  it('refuses a zip bomb of a few KB from its declared sizes, before writing anything', async () => {
    const bomb = buildZip([{ name: 'm/zeros.bin', data: Buffer.alloc(8 * MIB) }]);
    assert.ok(bomb.length < 16 * 1024, `bomb of ${bomb.length} bytes`);
    await scratch.assertRefused(bomb, 'zip', ['archive declares 8388608 uncompressed bytes', 'decompression bomb']);
  });

  it('refuses a zip whose declared sizes lie, counting the bytes actually inflated', async () => {
    const data = randomBytes(64 * 1024);
    // Declares fewer bytes than it inflates to: a bomb that hides from the declared-size check.
    await scratch.assertRefused(buildZip([{ name: 'm/a.bin', data, declaredSize: 100 }]), 'zip', ["archive entry 'm/a.bin' is corrupt", 'too many bytes']);
    await scratch.assertRefused(buildZip([{ name: 'm/a.bin', data, declaredSize: data.length + 10 }]), 'zip', ["archive entry 'm/a.bin' is corrupt", 'not enough bytes']);
    await scratch.assertRefused(buildZip([{ name: 'm/a.bin', data, crc: 1234 }]), 'zip', ["archive entry 'm/a.bin' is corrupt (CRC-32 mismatch)"]);
  });

  it('refuses a file over maxFileBytes and a total over maxTotalBytes', async () => {
    const big = randomBytes(3000);
    const limits = { maxFileBytes: 2048, maxTotalBytes: 4096 };
    await scratch.assertRefused(await buildTarGz([{ name: 'm/big', data: big }]), 'tar.gz', ["archive entry 'm/big' declares 3000 bytes, more than 2048 (limit maxFileBytes)"], limits);
    await scratch.assertRefused(buildZip([{ name: 'm/big', data: big }]), 'zip', ['more than 2048 (limit maxFileBytes)'], limits);
    const halves = [0, 1, 2].map((index) => ({ name: `m/${index}`, data: randomBytes(1500) }));
    await scratch.assertRefused(await buildTarGz(halves), 'tar.gz', ["archive entry 'm/2'", 'over 4096 bytes (limit maxTotalBytes)'], limits);
    await scratch.assertRefused(buildZip(halves), 'zip', ['over 4096 bytes (limit maxTotalBytes)'], limits);
  });

  it('refuses an archive over maxArchiveBytes while receiving it', async () => {
    const files = [{ name: 'm/noise', data: randomBytes(200 * 1024) }];
    await scratch.assertRefused(await buildTarGz(files), 'tar.gz', ['archive is larger than 100000 bytes (limit maxArchiveBytes)'], { maxArchiveBytes: 100_000 });
    await scratch.assertRefused(buildZip(files), 'zip', ['archive is larger than 100000 bytes (limit maxArchiveBytes)'], { maxArchiveBytes: 100_000 });
  });

  it('refuses corrupt and truncated archives with a clear INVALID_ARGUMENT', async () => {
    const tarGz = await buildTarGz([{ name: 'm/config.pbtxt', data: Buffer.from('name: "m"') }, { name: 'm/w', data: randomBytes(100 * 1024) }]);
    await scratch.assertRefused(randomBytes(4096), 'tar.gz', ['archive is not a valid gzip stream']);
    await scratch.assertRefused(Buffer.alloc(0), 'tar.gz', ['archive is empty or truncated']);
    await scratch.assertRefused(tarGz.subarray(0, tarGz.length >> 1), 'tar.gz', ['archive is empty or truncated: the gzip stream ends early']);
    const badChecksum = Buffer.from(tarGz);
    badChecksum[badChecksum.length - 6] = (badChecksum[badChecksum.length - 6] ?? 0) ^ 0xff; // the gzip trailer's CRC-32
    await scratch.assertRefused(badChecksum, 'tar.gz', ['archive is not a valid gzip stream (incorrect data check)']);
    await scratch.assertRefused(gzipSync(Buffer.from('this is text, not a tar archive\n'.repeat(40))), 'tar.gz', ['archive is not a valid tar archive']);
    const tar = await buildTar([{ name: 'm/w', data: randomBytes(10_000) }]);
    await scratch.assertRefused(gzipSync(tar.subarray(0, 4096)), 'tar.gz', ['archive is truncated: the tar data ends inside an entry']);

    const zip = buildZip([{ name: 'm/config.pbtxt', data: Buffer.from('name: "m"') }, { name: 'm/w', data: randomBytes(100 * 1024) }]);
    await scratch.assertRefused(randomBytes(4096), 'zip', ['archive is not a valid zip file']);
    await scratch.assertRefused(Buffer.alloc(0), 'zip', ['archive is not a valid zip file']);
    await scratch.assertRefused(zip.subarray(0, zip.length - 30), 'zip', ['archive is not a valid zip file']);
    const damaged = Buffer.from(zip);
    damaged.fill(0xff, 200, 400); // inside the deflated data of m/w
    await scratch.assertRefused(damaged, 'zip', ["archive entry 'm/w' is corrupt"]);
  });
});
