import assert from 'node:assert/strict';
import { mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { OnnxIoMetadata } from '../../../src/local-triton/backends/onnxruntime-messages';
import { OnnxFormatError } from '../../../src/repository/onnx/onnx-format-error';
import { readOnnxGraphIo } from '../../../src/repository/onnx/onnx-graph-io';
import { matmulChainModel } from '../../support/slow-onnx-model';
import { SAMPLE_REPOSITORY } from '../../support/temp-repository';
import { seededRandom } from '../random-message';
import {
  addWeightModel, bytesField, fieldHeader, graph, model, node, ONNX_FLOAT, ONNX_INT32, ONNX_INT64, sequenceValueInfo,
  tensorValueInfo, varint, varintField,
} from '../../support/onnx-builder';

/** What onnxruntime-node reports, in the form local-triton's worker gives it (onnxruntime-worker.ts). */
async function onnxruntimeIo(path: string): Promise<{ inputs: OnnxIoMetadata[]; outputs: OnnxIoMetadata[] }> {
  const session = await ort.InferenceSession.create(path);
  try {
    const convert = (entries: readonly ort.InferenceSession.ValueMetadata[]): OnnxIoMetadata[] => entries.map((entry) => entry.isTensor
      ? { name: entry.name, type: entry.type, dims: entry.shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : null)) }
      : { name: entry.name, type: null, dims: null });
    return { inputs: convert(session.inputMetadata), outputs: convert(session.outputMetadata) };
  } finally {
    await session.release();
  }
}


describe('readOnnxGraphIo', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'triage-onnx-io-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, bytes: Uint8Array): string => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  describe('agrees with onnxruntime-node', () => {
    const cases: [string, () => string][] = [
      ['model-repository/simple', () => join(SAMPLE_REPOSITORY, 'simple', '1', 'model.onnx')],
      ['model-repository/breast_cancer_mlp', () => join(SAMPLE_REPOSITORY, 'breast_cancer_mlp', '1', 'model.onnx')],
      ['the matmul-chain test model', () => write('matmul.onnx', matmulChainModel())],
      ['a model listing its initializer among the inputs', () => write('add-weight.onnx', addWeightModel())],
    ];
    for (const [label, path] of cases) {
      it(`on ${label}`, async () => {
        const file = path();
        const [streamed, reference] = await Promise.all([readOnnxGraphIo(file), onnxruntimeIo(file)]);
        assert.deepEqual({ inputs: streamed.inputs, outputs: streamed.outputs }, reference);
        assert.ok(streamed.inputs.length > 0 && streamed.outputs.length > 0);
      });
    }
  });

  it('reads the sample models exactly', async () => {
    const simple = await readOnnxGraphIo(join(SAMPLE_REPOSITORY, 'simple', '1', 'model.onnx'));
    assert.deepEqual(simple.inputs, [
      { name: 'INPUT0', type: 'int32', dims: [null, 16] },
      { name: 'INPUT1', type: 'int32', dims: [null, 16] },
    ]);
    assert.deepEqual(simple.outputs.map((output) => output.name), ['OUTPUT0', 'OUTPUT1']);
    const mlp = await readOnnxGraphIo(join(SAMPLE_REPOSITORY, 'breast_cancer_mlp', '1', 'model.onnx'));
    assert.deepEqual(mlp.inputs, [{ name: 'features', type: 'float32', dims: [null, 30] }]);
    assert.deepEqual(mlp.outputs, [{ name: 'probabilities', type: 'float32', dims: [null, 2] }]);
  });

  it('drops inputs that are initializers, dense or sparse', async () => {
    const io = await readOnnxGraphIo(write('add-weight-2.onnx', addWeightModel()));
    assert.deepEqual(io.inputs.map((input) => input.name), ['X']);
    // SparseTensorProto{values=1: TensorProto{name=8}} as GraphProto.sparse_initializer (15).
    const sparse = bytesField(1, Buffer.concat([varintField(2, ONNX_FLOAT), bytesField(8, 'S')]));
    const withSparse = Buffer.concat([
      graph({ inputs: [tensorValueInfo('X', ONNX_FLOAT, [2]), tensorValueInfo('S', ONNX_FLOAT, [2])], outputs: [tensorValueInfo('Y', ONNX_FLOAT, [2])] }),
      bytesField(15, sparse),
    ]);
    const sparseIo = await readOnnxGraphIo(write('sparse.onnx', model(withSparse)));
    assert.deepEqual(sparseIo.inputs.map((input) => input.name), ['X']);
  });

  it('reports symbolic, unset and negative dims as null, a tensor without shape and a non-tensor as unknown', async () => {
    const io = await readOnnxGraphIo(write('dims.onnx', model(graph({
      inputs: [
        tensorValueInfo('A', ONNX_INT64, ['batch', null, 7, 0]),
        tensorValueInfo('B', ONNX_INT32, null),
        sequenceValueInfo('C'),
      ],
      // dim_value -1 is written as a 10-byte varint (two's complement).
      outputs: [Buffer.concat([bytesField(1, 'D'), bytesField(2, bytesField(1, Buffer.concat([
        varintField(1, ONNX_FLOAT),
        bytesField(2, bytesField(1, Buffer.concat([varint(1 << 3), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])]))),
      ])))])],
    }))));
    assert.deepEqual(io.inputs, [
      { name: 'A', type: 'int64', dims: [null, null, 7, 0] },
      { name: 'B', type: 'int32', dims: null },
      { name: 'C', type: null, dims: null },
    ]);
    assert.deepEqual(io.outputs, [{ name: 'D', type: 'float32', dims: [null] }]);
  });

  it('skips a 5 GiB initializer by seeking past it, reading only a few kilobytes', async function () {
    this.timeout(30_000);
    // A sparse file: the weight's 5 GiB of raw_data are a hole, never written. The initializer
    // comes first and its name after its data, so the walk must seek across it twice.
    const huge = 5 * 1024 ** 3;
    const tensorHead = Buffer.concat([varintField(1, huge / 4), varintField(2, ONNX_FLOAT), fieldHeader(9, huge)]);
    const tensorTail = bytesField(8, 'W');
    const graphTail = Buffer.concat([
      bytesField(11, tensorValueInfo('X', ONNX_FLOAT, ['batch', huge / 4])),
      bytesField(11, tensorValueInfo('W', ONNX_FLOAT, [huge / 4])),
      bytesField(12, tensorValueInfo('Y', ONNX_FLOAT, ['batch', huge / 4])),
      bytesField(1, node('Add', ['X', 'W'], ['Y'])),
    ]);
    const initializerLength = tensorHead.length + huge + tensorTail.length;
    const graphHead = fieldHeader(5, initializerLength);
    const graphLength = graphHead.length + initializerLength + graphTail.length;
    const head = Buffer.concat([varintField(1, 8), fieldHeader(7, graphLength), graphHead, tensorHead]);
    const path = join(dir, 'huge.onnx');
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, head, 0, head.length, 0);
      const tail = Buffer.concat([tensorTail, graphTail]);
      writeSync(fd, tail, 0, tail.length, head.length + huge);
    } finally {
      closeSync(fd);
    }
    assert.equal(statSync(path).size, head.length + huge + tensorTail.length + graphTail.length);
    const io = await readOnnxGraphIo(path);
    assert.deepEqual(io.inputs, [{ name: 'X', type: 'float32', dims: [null, huge / 4] }]);
    assert.deepEqual(io.outputs, [{ name: 'Y', type: 'float32', dims: [null, huge / 4] }]);
    assert.ok(io.bytesRead < 256 * 1024, `read ${io.bytesRead} bytes`);
  });

  it('throws OnnxFormatError for a file that is not ONNX', async () => {
    for (const [name, bytes] of [
      ['text.onnx', Buffer.from('name: "simple"\nplatform: "onnxruntime_onnx"\n')],
      ['empty.onnx', Buffer.alloc(0)],
      ['no-graph.onnx', varintField(1, 8)],
      ['group.onnx', Buffer.from([0x0b, 0x0c])],
    ] as const) {
      await assert.rejects(readOnnxGraphIo(write(name, bytes)), (error: unknown) => {
        assert.ok(error instanceof OnnxFormatError, `${name}: ${String(error)}`);
        assert.ok(Number.isInteger(error.offset) && error.offset >= 0);
        return true;
      });
    }
  });

  it('on every truncation of a real model, either reads the complete graph or throws OnnxFormatError', async () => {
    const bytes = readFileSync(join(SAMPLE_REPOSITORY, 'simple', '1', 'model.onnx'));
    const full = await readOnnxGraphIo(join(SAMPLE_REPOSITORY, 'simple', '1', 'model.onnx'));
    let refused = 0;
    for (let length = 0; length < bytes.length; length++) {
      const path = write('truncated.onnx', bytes.subarray(0, length));
      try {
        const io = await readOnnxGraphIo(path);
        assert.deepEqual({ inputs: io.inputs, outputs: io.outputs }, { inputs: full.inputs, outputs: full.outputs }, `prefix of ${length} bytes`);
      } catch (error) {
        assert.ok(error instanceof OnnxFormatError, `prefix of ${length} bytes: ${String(error)}`);
        refused += 1;
      }
    }
    assert.ok(refused > bytes.length / 2, `only ${refused} truncations refused`);
  });

  it('never fails with anything but OnnxFormatError on corrupted bytes', async () => {
    const bytes = readFileSync(join(SAMPLE_REPOSITORY, 'breast_cancer_mlp', '1', 'model.onnx'));
    const random = seededRandom(7);
    for (let round = 0; round < 300; round++) {
      const corrupted = Buffer.from(bytes);
      const flips = 1 + Math.floor(random() * 4);
      for (let flip = 0; flip < flips; flip++) corrupted[Math.floor(random() * corrupted.length)] = Math.floor(random() * 256);
      try {
        const io = await readOnnxGraphIo(write('corrupted.onnx', corrupted));
        assert.ok(Array.isArray(io.inputs) && Array.isArray(io.outputs));
      } catch (error) {
        assert.ok(error instanceof OnnxFormatError, `round ${round}: ${String(error)}`);
      }
    }
  });
});
