import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { buildTar, buildTarGz, withTypeFlag, type TarEntrySpec } from '../../support/archive-builders';
import { ExtractionScratch } from './extraction-scratch';
import { buildZip, type ZipEntrySpec } from '../../support/zip-writer';

/** Written first in every hostile archive, so a refusal must also remove what was already written. */
const GOOD = { name: 'mymodel/config.pbtxt', data: Buffer.from('name: "mymodel"\n') };
const DEEP = `${Array.from({ length: 33 }, (_, index) => `d${index}`).join('/')}/f`;
const LONG = `mymodel/${'x'.repeat(1020)}`;

/** Hostile names refused in both formats, with the rule each message must state. */
const HOSTILE_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['../../etc/passwd', "archive entry '../../etc/passwd' leaves the model folder"],
  ['mymodel/../../outside', 'leaves the model folder'],
  ['/etc/passwd', "archive entry '/etc/passwd' is an absolute path"],
  ['C:/Windows/system.ini', 'names a Windows drive'],
  ['C:\\Windows\\system.ini', 'names a Windows drive'],
  ['mymodel\\..\\..\\evil', 'has a backslash'],
  ['mymodel/bad\u0007name', "archive entry 'mymodel/bad\\u0007name' has a control character"],
  ['mymodel/new\nline', 'has a control character'],
  [LONG, 'has a path longer than 1024 bytes'],
  [DEEP, 'is nested deeper than 32 levels'],
];

describe('extractArchive: hostile archives', () => {
  const scratch = new ExtractionScratch();
  after(() => scratch.remove());

  const refuseTar = (entries: readonly TarEntrySpec[], ...fragments: string[]): Promise<string> =>
    buildTarGz([GOOD, ...entries]).then((archive) => scratch.assertRefused(archive, 'tar.gz', fragments));
  const refuseZip = (entries: readonly ZipEntrySpec[], ...fragments: string[]): Promise<string> =>
    scratch.assertRefused(buildZip([GOOD, ...entries]), 'zip', fragments);

  it('refuses traversal, absolute, Windows, control-character, over-long and over-deep paths in a .tar.gz', async () => {
    for (const [name, rule] of HOSTILE_NAMES) await refuseTar([{ name, data: Buffer.from('x') }], rule);
  });

  it('refuses the same paths in a zip, and a NUL byte in a raw zip name', async () => {
    for (const [name, rule] of HOSTILE_NAMES) await refuseZip([{ name, data: Buffer.from('x') }], rule);
    await refuseZip([{ name: Buffer.from('mymodel/a\u0000.onnx', 'latin1'), data: Buffer.from('x') }], "'mymodel/a\\u0000.onnx' has a control character");
  });

  it('refuses links, devices, FIFOs and unknown entry types in a .tar.gz', async () => {
    await refuseTar([{ name: 'mymodel/link', type: 'symlink', linkname: '/etc/passwd' }], "archive entry 'mymodel/link' is a symbolic link");
    await refuseTar([{ name: 'mymodel/hard', type: 'link', linkname: 'mymodel/config.pbtxt' }], 'is a hard link');
    await refuseTar([{ name: 'mymodel/tty', type: 'character-device' }], 'is a character device');
    await refuseTar([{ name: 'mymodel/disk', type: 'block-device' }], 'is a block device');
    await refuseTar([{ name: 'mymodel/pipe', type: 'fifo' }], 'is a FIFO');
    // GNU sparse file ('S'): a type tar-stream does not know. The GOOD entry takes the first 1024 bytes.
    const sparse = withTypeFlag(await buildTar([GOOD, { name: 'mymodel/sparse', data: Buffer.from('x') }]), 1024, 'S');
    await scratch.assertRefused(gzipSync(sparse), 'tar.gz', ["archive entry 'mymodel/sparse' is of an unsupported tar entry type"]);
    // A symbolic link followed by a file written through it: refused at the link.
    await refuseTar([{ name: 'mymodel/1', type: 'symlink', linkname: '/tmp' }, { name: 'mymodel/1/model.onnx', data: Buffer.from('x') }], 'is a symbolic link');
  });

  it('refuses zip entries whose unix mode is a link or a special file, encrypted entries and unknown methods', async () => {
    await refuseZip([{ name: 'mymodel/link', data: Buffer.from('/etc/passwd'), unixMode: 0o120777 }], "archive entry 'mymodel/link' is a symbolic link");
    await refuseZip([{ name: 'mymodel/pipe', unixMode: 0o010644 }], 'is a FIFO');
    await refuseZip([{ name: 'mymodel/tty', unixMode: 0o020644 }], 'is a character device');
    await refuseZip([{ name: 'mymodel/sock', unixMode: 0o140644 }], 'is a socket');
    await refuseZip([{ name: 'mymodel/secret', data: Buffer.from('x'), flags: 0x1 }], 'is encrypted');
    await refuseZip([{ name: 'mymodel/model.bz2', data: Buffer.from('x'), method: 12 }], 'uses compression method 12');
  });

  it('refuses duplicate paths and a file used as a directory', async () => {
    await refuseTar([{ name: 'mymodel/config.pbtxt', data: Buffer.from('again') }], "archive entry 'mymodel/config.pbtxt' appears twice");
    await refuseTar([{ name: './mymodel//config.pbtxt', data: Buffer.from('again') }], 'appears twice');
    await refuseZip([{ name: 'mymodel/config.pbtxt', data: Buffer.from('again') }], 'appears twice');
    await refuseTar([{ name: 'mymodel/config.pbtxt/x', data: Buffer.from('x') }], "is inside 'mymodel/config.pbtxt', which is a file");
    await refuseZip([{ name: 'mymodel/1/model.onnx', data: Buffer.from('x') }, { name: 'mymodel/1', data: Buffer.from('x') }], "archive entry 'mymodel/1' is a file, but other entries are inside it");
  });

  it('escapes a hostile name in the message and shortens a long one', async () => {
    const message = await refuseTar([{ name: `mymodel/\u001b[31m${'y'.repeat(1100)}`, data: Buffer.from('x') }], 'has a control character');
    assert.ok(!message.includes('\u001b'), message);
    assert.ok(message.length < 400, `message of ${message.length} characters`);
  });
});
