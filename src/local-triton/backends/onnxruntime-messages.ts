import type { Datatype } from '../../protocol/datatypes';

/** A tensor crossing the thread boundary; `data` is transferred, never shared. */
export interface WireTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: ArrayBuffer;
}

/** What the ONNX graph declares for one input or output. Dims: a number, or null when symbolic. */
export interface OnnxIoMetadata {
  name: string;
  /** onnxruntime's element type ('float32', 'int64', ...), or null for a non-tensor value. */
  type: string | null;
  dims: (number | null)[] | null;
}

export interface OnnxWorkerData {
  modelPath: string;
  intraOpThreads: number;
}

export type ToOnnxWorker =
  | { kind: 'run'; id: number; inputs: WireTensor[]; outputNames: string[] }
  | { kind: 'close' };

export type FromOnnxWorker =
  | { kind: 'loaded'; inputs: OnnxIoMetadata[]; outputs: OnnxIoMetadata[] }
  | { kind: 'load-failed'; message: string }
  | { kind: 'result'; id: number; outputs: WireTensor[] }
  | { kind: 'failed'; id: number; message: string }
  | { kind: 'closed' };
