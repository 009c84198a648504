/**
 * The thread that owns one onnxruntime session (one model instance). onnxruntime-node's
 * run() computes on the calling thread, so each instance lives in a worker thread and
 * the server's event loop stays free while a batch computes.
 *
 * Invariant: the session is released before the thread ends; onnxruntime aborts the
 * process when a thread holding a live session is terminated.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { deserializeBytesElements, serializeBytesElements } from '../../protocol/bytes-tensor';
import { datatypeOfOnnxType, onnxTypeOf } from './onnx-element-types';
import type { FromOnnxWorker, OnnxIoMetadata, OnnxWorkerData, ToOnnxWorker, WireTensor } from './onnxruntime-messages';

const port = parentPort;
if (port === null) throw new Error('onnxruntime-worker must run in a worker thread');
const data = workerData as OnnxWorkerData;

function send(message: FromOnnxWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

type TypedArrayConstructor = new (buffer: ArrayBuffer) => ort.Tensor['data'];

const ARRAY_OF: Readonly<Record<string, TypedArrayConstructor>> = {
  bool: Uint8Array as unknown as TypedArrayConstructor,
  uint8: Uint8Array as unknown as TypedArrayConstructor,
  int8: Int8Array as unknown as TypedArrayConstructor,
  uint16: Uint16Array as unknown as TypedArrayConstructor,
  int16: Int16Array as unknown as TypedArrayConstructor,
  float16: Uint16Array as unknown as TypedArrayConstructor,
  uint32: Uint32Array as unknown as TypedArrayConstructor,
  int32: Int32Array as unknown as TypedArrayConstructor,
  float32: Float32Array as unknown as TypedArrayConstructor,
  uint64: BigUint64Array as unknown as TypedArrayConstructor,
  int64: BigInt64Array as unknown as TypedArrayConstructor,
  float64: Float64Array as unknown as TypedArrayConstructor,
};

function toOrtTensor(tensor: WireTensor): ort.Tensor {
  const ortType = onnxTypeOf(tensor.datatype);
  if (ortType === undefined) throw new Error(`onnxruntime has no element type for ${tensor.datatype} (input '${tensor.name}')`);
  if (ortType === 'string') {
    const elements = deserializeBytesElements(Buffer.from(tensor.data)) ?? [];
    return new ort.Tensor('string', elements.map((element) => element.toString('utf8')), tensor.shape);
  }
  const ArrayType = ARRAY_OF[ortType];
  if (ArrayType === undefined) throw new Error(`no typed array for onnxruntime type ${ortType}`);
  return new ort.Tensor(ortType as 'float32', new ArrayType(tensor.data) as Float32Array, tensor.shape);
}

/** The output's bytes as a buffer of its own (transferable), copied only when shared. */
function ownBuffer(view: ArrayBufferView): ArrayBuffer {
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer) {
    return view.buffer;
  }
  const copy = new ArrayBuffer(view.byteLength);
  new Uint8Array(copy).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return copy;
}

function fromOrtTensor(name: string, tensor: ort.Tensor): WireTensor {
  const datatype = datatypeOfOnnxType(tensor.type);
  if (datatype === undefined) throw new Error(`output '${name}' has onnxruntime type ${tensor.type}, which Triton cannot carry`);
  const shape = tensor.dims.map(Number);
  if (tensor.type === 'string') {
    const bytes = serializeBytesElements((tensor.data as string[]).map((text) => Buffer.from(text, 'utf8')));
    return { name, datatype, shape, data: ownBuffer(bytes) };
  }
  return { name, datatype, shape, data: ownBuffer(tensor.data as ArrayBufferView) };
}

function ioMetadata(entries: readonly ort.InferenceSession.ValueMetadata[]): OnnxIoMetadata[] {
  return entries.map((entry) => entry.isTensor
    ? { name: entry.name, type: entry.type, dims: entry.shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : null)) }
    : { name: entry.name, type: null, dims: null });
}

async function main(): Promise<void> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(data.modelPath, {
      intraOpNumThreads: data.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    send({ kind: 'load-failed', message: error instanceof Error ? error.message : String(error) });
    port?.close();
    return;
  }
  send({ kind: 'loaded', inputs: ioMetadata(session.inputMetadata), outputs: ioMetadata(session.outputMetadata) });

  port?.on('message', (message: ToOnnxWorker) => {
    if (message.kind === 'close') {
      void session.release().finally(() => {
        send({ kind: 'closed' });
        port.close();
      });
      return;
    }
    void run(session, message.id, message.inputs, message.outputNames);
  });
}

async function run(session: ort.InferenceSession, id: number, inputs: WireTensor[], outputNames: string[]): Promise<void> {
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) feeds[input.name] = toOrtTensor(input);
    const results = await session.run(feeds, outputNames);
    const outputs = outputNames.map((name) => {
      const tensor = results[name];
      if (tensor === undefined) throw new Error(`onnxruntime returned no output '${name}'`);
      return fromOrtTensor(name, tensor);
    });
    send({ kind: 'result', id, outputs }, outputs.map((output) => output.data));
  } catch (error) {
    send({ kind: 'failed', id, message: error instanceof Error ? error.message : String(error) });
  }
}

void main();
