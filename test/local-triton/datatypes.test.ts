import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { serializeBytesElements } from '../../src/protocol/bytes-tensor';
import { ALL_DATATYPES, datatypeInfo, type Datatype } from '../../src/protocol/datatypes';
import { rawToTypedContents, type TypedContents } from '../../src/protocol/typed-contents';
import { grpcError } from '../support/grpc-test-client';
import { inferRequest } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';

interface InferResponse {
  model_name: string;
  outputs: { name: string; datatype: string; shape: string[]; contents: unknown }[];
  raw_output_contents: Buffer[];
}

const modelName = (datatype: Datatype): string => `identity_${datatype.toLowerCase()}`;

/** TypedContents as the loose message object the test client sends. */
const message = (contents: TypedContents): Record<string, unknown> => Object.fromEntries(Object.entries(contents));

function identityConfig(datatype: Datatype): string {
  const configType = datatypeInfo(datatype)?.configType ?? 'TYPE_INVALID';
  return `name: "${modelName(datatype)}"
backend: "identity"
max_batch_size: 4
input [ { name: "INPUT0" data_type: ${configType} dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: ${configType} dims: [ -1 ] } ]
`;
}

/** A deterministic byte stream (xorshift32), so a failure reproduces. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    out[index] = state & 0xff;
  }
  return out;
}

/**
 * Raw data of `count` elements that every path must carry unchanged: any bit pattern
 * for integers and for FP16/BF16 (raw only, so NaN payloads included), finite values
 * for FP32/FP64 (typed floats cannot keep a NaN payload), 0/1 for BOOL.
 */
function sampleRaw(datatype: Datatype, count: number, seed: number): Buffer {
  const bytes = pseudoRandomBytes(count * 8, seed);
  switch (datatype) {
    case 'BOOL': return Buffer.from(bytes.subarray(0, count).map((byte) => byte & 1));
    case 'FP32': {
      const out = Buffer.alloc(count * 4);
      for (let i = 0; i < count; i++) out.writeFloatLE((bytes.readInt32LE(i * 4) / 65536) * (i % 2 === 0 ? 1 : 1e-30), i * 4);
      return out;
    }
    case 'FP64': {
      const out = Buffer.alloc(count * 8);
      for (let i = 0; i < count; i++) out.writeDoubleLE(bytes.readInt32LE(i * 4) * Math.PI * 10 ** ((i % 40) - 20), i * 8);
      return out;
    }
    case 'BYTES': {
      const elements = Array.from({ length: count }, (_, i) => bytes.subarray(i, i + (bytes[i] ?? 0) % 8));
      return serializeBytesElements(elements);
    }
    default: return bytes.subarray(0, count * (datatypeInfo(datatype)?.byteSize ?? 1));
  }
}

interface ExtremeCase {
  readonly contents: TypedContents;
  /** The raw form, written here independently of src/protocol. */
  readonly raw: Buffer;
}

function fixed<T>(values: readonly T[], size: number, write: (out: Buffer, value: T, offset: number) => void): Buffer {
  const out = Buffer.alloc(values.length * size);
  values.forEach((value, index) => write(out, value, index * size));
  return out;
}

const MULTI_BYTE = Buffer.from('h\u00e9llo w\u00f6rld \u2713 \u{1F680} \u65e5\u672c', 'utf8');

/** Six values per type (shape [2, 3]), at the edges of each type's range. */
const EXTREMES: Partial<Record<Datatype, ExtremeCase>> = {
  BOOL: { contents: { bool_contents: [true, false, false, true, true, false] }, raw: Buffer.from([1, 0, 0, 1, 1, 0]) },
  UINT8: { contents: { uint_contents: [0, 1, 127, 128, 254, 255] }, raw: Buffer.from([0, 1, 127, 128, 254, 255]) },
  UINT16: { contents: { uint_contents: [0, 1, 32767, 32768, 65534, 65535] }, raw: fixed([0, 1, 32767, 32768, 65534, 65535], 2, (o, v, at) => o.writeUInt16LE(v, at)) },
  UINT32: {
    contents: { uint_contents: [0, 1, 2147483647, 2147483648, 4294967294, 4294967295] },
    raw: fixed([0, 1, 2147483647, 2147483648, 4294967294, 4294967295], 4, (o, v, at) => o.writeUInt32LE(v, at)),
  },
  UINT64: {
    contents: { uint64_contents: ['0', '1', '9007199254740993', '9223372036854775808', '18446744073709551614', '18446744073709551615'] },
    raw: fixed([0n, 1n, 9007199254740993n, 9223372036854775808n, 18446744073709551614n, 18446744073709551615n], 8, (o, v, at) => o.writeBigUInt64LE(v, at)),
  },
  INT8: { contents: { int_contents: [-128, -127, -1, 0, 1, 127] }, raw: fixed([-128, -127, -1, 0, 1, 127], 1, (o, v, at) => o.writeInt8(v, at)) },
  INT16: { contents: { int_contents: [-32768, -32767, -1, 0, 1, 32767] }, raw: fixed([-32768, -32767, -1, 0, 1, 32767], 2, (o, v, at) => o.writeInt16LE(v, at)) },
  INT32: {
    contents: { int_contents: [-2147483648, -2147483647, -1, 0, 1, 2147483647] },
    raw: fixed([-2147483648, -2147483647, -1, 0, 1, 2147483647], 4, (o, v, at) => o.writeInt32LE(v, at)),
  },
  INT64: {
    contents: { int64_contents: ['-9223372036854775808', '-9007199254740993', '-1', '0', '9007199254740993', '9223372036854775807'] },
    raw: fixed([-9223372036854775808n, -9007199254740993n, -1n, 0n, 9007199254740993n, 9223372036854775807n], 8, (o, v, at) => o.writeBigInt64LE(v, at)),
  },
  FP32: {
    contents: { fp32_contents: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 3.4028234663852886e38, 1.401298464324817e-45] },
    raw: fixed([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 3.4028234663852886e38, 1.401298464324817e-45], 4, (o, v, at) => o.writeFloatLE(v, at)),
  },
  FP64: {
    contents: { fp64_contents: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, Number.MAX_VALUE, Number.MIN_VALUE] },
    raw: fixed([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, Number.MAX_VALUE, Number.MIN_VALUE], 8, (o, v, at) => o.writeDoubleLE(v, at)),
  },
  BYTES: (() => {
    const elements = [Buffer.alloc(0), MULTI_BYTE, Buffer.from([0x00, 0xff, 0x00, 0x80]), Buffer.alloc(0), Buffer.alloc(300, 0xff), Buffer.from([0])];
    const raw = Buffer.concat(elements.flatMap((element) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(element.length);
      return [length, element];
    }));
    return { contents: { bytes_contents: elements }, raw };
  })(),
};

describe('local-triton: every Triton datatype through the identity backend', () => {
  let repository: TempRepository | undefined;
  let fixture: LocalTritonFixture;

  before(async () => {
    repository = new TempRepository();
    for (const datatype of ALL_DATATYPES) repository.writeModel(modelName(datatype), identityConfig(datatype));
    fixture = await startLocalTritonFixture({ modelRepository: repository.path });
  });
  after(async () => {
    await fixture?.stop();
    repository?.remove();
  });

  const infer = (request: Record<string, unknown>): Promise<InferResponse> => fixture.client.unary<InferResponse>('ModelInfer', request);

  it('covers all 14 datatypes, each with a model that loaded', async () => {
    assert.equal(ALL_DATATYPES.length, 14);
    const index = await fixture.client.unary<{ models: { name: string; state: string }[] }>('RepositoryIndex', { ready: true });
    assert.deepEqual(index.models.map((model) => model.name).sort(), ALL_DATATYPES.map(modelName).sort());
  });

  for (const [seed, datatype] of ALL_DATATYPES.entries()) {
    it(`${datatype}: raw_input_contents come back byte for byte with shape and datatype`, async () => {
      const raw = sampleRaw(datatype, 2 * 37, seed + 1);
      const response = await infer(inferRequest(modelName(datatype), [{ name: 'INPUT0', datatype, shape: [2, 37], raw }], { id: `raw-${datatype}` }));
      assert.equal(response.model_name, modelName(datatype));
      assert.deepEqual(response.outputs.map((o) => [o.name, o.datatype, o.shape.map(Number)]), [['OUTPUT0', datatype, [2, 37]]]);
      assert.equal(response.raw_output_contents.length, 1);
      assert.ok((response.raw_output_contents[0] as Buffer).equals(raw), `${datatype} output differs from the input`);
    });
  }

  for (const datatype of ALL_DATATYPES) {
    const extreme = EXTREMES[datatype];
    if (extreme === undefined) continue;
    it(`${datatype}: typed contents at the edges of the range equal the same values sent raw`, async () => {
      const model = modelName(datatype);
      const typed = await infer(inferRequest(model, [{ name: 'INPUT0', datatype, shape: [2, 3], contents: message(extreme.contents) }]));
      const raw = await infer(inferRequest(model, [{ name: 'INPUT0', datatype, shape: [2, 3], raw: extreme.raw }]));
      assert.deepEqual(typed.outputs[0]?.shape.map(Number), [2, 3]);
      assert.equal(typed.outputs[0]?.datatype, datatype);
      assert.ok((raw.raw_output_contents[0] as Buffer).equals(extreme.raw), 'the raw path changed the bytes');
      assert.ok((typed.raw_output_contents[0] as Buffer).equals(extreme.raw),
        `typed ${datatype} became ${(typed.raw_output_contents[0] as Buffer).toString('hex')}, expected ${extreme.raw.toString('hex')}`);
    });
  }

  it('every datatype with a typed field has an edge-value case above', () => {
    const typedTypes = ALL_DATATYPES.filter((datatype) => datatypeInfo(datatype)?.contentsField !== null);
    assert.deepEqual(typedTypes, Object.keys(EXTREMES).sort((a, b) => ALL_DATATYPES.indexOf(a as Datatype) - ALL_DATATYPES.indexOf(b as Datatype)));
  });

  for (const [seed, datatype] of ALL_DATATYPES.entries()) {
    if (datatypeInfo(datatype)?.contentsField === null) continue;
    it(`${datatype}: many values as typed contents give the same bytes as raw`, async () => {
      const raw = sampleRaw(datatype, 4 * 50, 1000 + seed);
      const contents = rawToTypedContents(datatype, raw);
      const response = await infer(inferRequest(modelName(datatype), [{ name: 'INPUT0', datatype, shape: [4, 50], contents: message(contents) }]));
      assert.deepEqual(response.outputs[0]?.shape.map(Number), [4, 50]);
      assert.ok((response.raw_output_contents[0] as Buffer).equals(raw), `typed ${datatype} did not reproduce the raw bytes`);
    });
  }

  for (const datatype of ['FP16', 'BF16'] as const) {
    it(`${datatype} sent as typed contents is INVALID_ARGUMENT (it has no typed field)`, async () => {
      for (const contents of [{ fp32_contents: [1.5, 2.5] }, { uint_contents: [0x3c00, 0x4000] }, { bytes_contents: [Buffer.from([0, 0x3c])] }]) {
        const error = await grpcError(infer(inferRequest(modelName(datatype), [{ name: 'INPUT0', datatype, shape: [1, 2], contents }], { id: 'half' })));
        assert.equal(error.code, status.INVALID_ARGUMENT, JSON.stringify(Object.keys(contents)));
        assert.match(error.details, new RegExp(`^\\[request id: half\\] input 'INPUT0' has datatype ${datatype}, which has no typed contents field`));
      }
    });
  }

  it('BYTES raw data that is not a sequence of length-prefixed elements is INVALID_ARGUMENT', async () => {
    const element = (text: string): Buffer => serializeBytesElements([Buffer.from(text)]);
    const pastTheEnd = Buffer.concat([element('ok'), Buffer.from([9, 0, 0, 0]), Buffer.from('abc')]);
    const cases: [string, Buffer, number][] = [
      ['a length that runs past the end', pastTheEnd, 2],
      ['a truncated length prefix', Buffer.concat([element('ok'), Buffer.from([1, 0])]), 2],
      ['a huge length', Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), 1],
      ['bytes left over after the last element', Buffer.concat([element('ok'), element('no')]), 1],
      ['fewer elements than the shape holds', element('ok'), 2],
    ];
    for (const [what, raw, elements] of cases) {
      const error = await grpcError(infer(inferRequest(modelName('BYTES'), [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, elements], raw }])));
      assert.equal(error.code, status.INVALID_ARGUMENT, what);
      assert.match(error.details, /input 'INPUT0' for model 'identity_bytes' is not a valid BYTES tensor/, what);
    }
    // The same model still answers a valid tensor afterwards.
    const good = serializeBytesElements([Buffer.from('ok'), Buffer.alloc(0)]);
    const response = await infer(inferRequest(modelName('BYTES'), [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 2], raw: good }]));
    assert.ok((response.raw_output_contents[0] as Buffer).equals(good));
  });

  for (const datatype of ALL_DATATYPES) {
    it(`${datatype}: a zero-element tensor [1,0] works, raw and typed`, async () => {
      const model = modelName(datatype);
      const raw = await infer(inferRequest(model, [{ name: 'INPUT0', datatype, shape: [1, 0], raw: Buffer.alloc(0) }]));
      assert.deepEqual(raw.outputs.map((o) => [o.name, o.datatype, o.shape.map(Number)]), [['OUTPUT0', datatype, [1, 0]]]);
      assert.equal(raw.raw_output_contents.length, 1, 'an empty output still has its raw_output_contents entry');
      assert.equal((raw.raw_output_contents[0] as Buffer).length, 0);
      const typed = await infer(inferRequest(model, [{ name: 'INPUT0', datatype, shape: [1, 0] }]));
      assert.deepEqual(typed.outputs[0]?.shape.map(Number), [1, 0]);
      assert.equal((typed.raw_output_contents[0] as Buffer).length, 0);
    });
  }
});
