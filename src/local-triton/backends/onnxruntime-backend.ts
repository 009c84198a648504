import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Tensor } from '../../protocol/tensor';
import type { BackendInstance, InstanceContext } from './backend-instance';
import { checkOnnxAgainstConfig } from './onnx-config-check';
import type { FromOnnxWorker, OnnxIoMetadata, OnnxWorkerData, ToOnnxWorker, WireTensor } from './onnxruntime-messages';

const WORKER_SCRIPT = join(__dirname, 'onnxruntime-worker.js');
const CLOSE_TIMEOUT_MS = 10_000;

interface PendingRun {
  resolve(outputs: Tensor[]): void;
  reject(error: Error): void;
}

/** The model file of a version: `<version>/<default_model_filename>`, or the file of that name inside a directory of that name. */
export function onnxModelPath(versionPath: string, fileName: string): string {
  const candidate = join(versionPath, fileName);
  if (existsSync(candidate) && statSync(candidate).isDirectory()) return join(candidate, 'model.onnx');
  return candidate;
}

/**
 * Starts one onnxruntime instance in its own worker thread, waits for the session, and
 * checks the graph against the config (names, element types, ranks) before it serves.
 */
export async function createOnnxRuntimeInstance(context: InstanceContext): Promise<BackendInstance> {
  const { spec } = context;
  const modelPath = onnxModelPath(context.versionPath, spec.defaultModelFilename || 'model.onnx');
  if (!existsSync(modelPath)) {
    throw new Error(`model file '${modelPath}' not found (backend onnxruntime expects '${spec.defaultModelFilename || 'model.onnx'}' in the version directory)`);
  }
  const workerData: OnnxWorkerData = { modelPath, intraOpThreads: 1 };
  const worker = new Worker(WORKER_SCRIPT, { workerData, name: context.instanceName });
  const metadata = await waitForLoad(worker);
  try {
    checkOnnxAgainstConfig(spec, metadata.inputs, metadata.outputs);
  } catch (error) {
    await closeWorker(worker);
    throw error;
  }
  return new OnnxRuntimeInstance(worker, spec.outputs.map((output) => output.name));
}

function waitForLoad(worker: Worker): Promise<{ inputs: OnnxIoMetadata[]; outputs: OnnxIoMetadata[] }> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromOnnxWorker): void => {
      cleanup();
      if (message.kind === 'loaded') resolve({ inputs: message.inputs, outputs: message.outputs });
      else if (message.kind === 'load-failed') reject(new Error(`onnxruntime could not load the model: ${message.message}`));
      else reject(new Error(`onnxruntime worker sent '${message.kind}' before loading`));
    };
    const onError = (error: Error): void => { cleanup(); reject(error); };
    const onExit = (code: number): void => { cleanup(); reject(new Error(`onnxruntime worker exited with code ${code} while loading`)); };
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** Asks the worker to release its session and end; waits for the thread to exit. */
function closeWorker(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { void worker.terminate(); }, CLOSE_TIMEOUT_MS);
    worker.once('exit', () => { clearTimeout(timer); resolve(); });
    const message: ToOnnxWorker = { kind: 'close' };
    worker.postMessage(message);
  });
}

class OnnxRuntimeInstance implements BackendInstance {
  private readonly pending = new Map<number, PendingRun>();
  private nextId = 1;
  private failure: Error | null = null;

  constructor(private readonly worker: Worker, private readonly outputNames: string[]) {
    worker.on('message', (message: FromOnnxWorker) => this.onMessage(message));
    worker.on('error', (error: Error) => this.fail(new Error(`onnxruntime instance failed: ${error.message}`)));
    worker.on('exit', (code: number) => this.fail(new Error(`onnxruntime instance exited (code ${code})`)));
  }

  execute(inputs: readonly Tensor[]): Promise<Tensor[]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const id = this.nextId++;
    const wireInputs: WireTensor[] = inputs.map((input) => ({
      name: input.name,
      datatype: input.datatype,
      shape: [...input.shape],
      data: copyToOwnBuffer(input.data),
    }));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const message: ToOnnxWorker = { kind: 'run', id, inputs: wireInputs, outputNames: this.outputNames };
      this.worker.postMessage(message, wireInputs.map((input) => input.data));
    });
  }

  close(): Promise<void> {
    this.failure ??= new Error('onnxruntime instance is closed');
    return closeWorker(this.worker);
  }

  private onMessage(message: FromOnnxWorker): void {
    if (message.kind !== 'result' && message.kind !== 'failed') return;
    const run = this.pending.get(message.id);
    if (run === undefined) return;
    this.pending.delete(message.id);
    if (message.kind === 'failed') {
      run.reject(new Error(message.message));
      return;
    }
    run.resolve(message.outputs.map((output) => ({
      name: output.name,
      datatype: output.datatype,
      shape: output.shape,
      data: Buffer.from(output.data),
    })));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const run of this.pending.values()) run.reject(error);
    this.pending.clear();
  }
}

/** Input bytes arrive as views into larger gRPC buffers; the worker needs a buffer of its own to take. */
function copyToOwnBuffer(data: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(data.byteLength);
  new Uint8Array(copy).set(data);
  return copy;
}
