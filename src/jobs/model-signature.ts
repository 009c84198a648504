import { datatypeFromConfigType, type Datatype } from '../protocol/datatypes';
import { TriageError } from '../errors/triage-error';

/** One input of a model as a job row must give it. */
export interface InputSignature {
  readonly name: string;
  readonly datatype: Datatype;
  /** The config's dims: without the batch dimension when the model batches; -1 = any size. */
  readonly dims: readonly number[];
  /** An optional input may be left out of a row. */
  readonly optional: boolean;
}

/** What validating a job's rows needs to know about its model (from ModelConfig). */
export interface ModelSignature {
  readonly model: string;
  /** '' = the version routing picks. */
  readonly version: string;
  /** > 0: rows are stacked into batches of up to this many; 0: each row runs alone, shapes as given. */
  readonly maxBatchSize: number;
  readonly inputs: readonly InputSignature[];
  /** dynamic_batching.priority_levels (0: none). */
  readonly priorityLevels: number;
}

/** Where job creation reads a model's signature (the instances serving it). */
export interface ModelSignatureSource {
  describe(model: string, version: string): Promise<ModelSignature>;
}

interface ConfigTensor {
  readonly name?: string;
  readonly data_type?: string;
  readonly dims?: readonly (string | number)[];
  readonly optional?: boolean;
}

/** The config as the proto loader decodes ModelConfig (snake_case, enums as names, int64 as strings). */
export interface DecodedModelConfig {
  readonly max_batch_size?: number | string;
  readonly input?: readonly ConfigTensor[];
  readonly dynamic_batching?: { readonly priority_levels?: number | string } | null;
}

/** The signature of a decoded ModelConfig. */
export function modelSignatureFromConfig(model: string, version: string, config: DecodedModelConfig): ModelSignature {
  const inputs = (config.input ?? []).map((input): InputSignature => {
    const datatype = datatypeFromConfigType(input.data_type ?? '')?.datatype;
    if (datatype === undefined) throw new TriageError('UNAVAILABLE', `model '${model}' input '${input.name ?? ''}' has data type ${input.data_type ?? '(none)'}, which batch jobs cannot carry`);
    return { name: input.name ?? '', datatype, dims: (input.dims ?? []).map(Number), optional: input.optional === true };
  });
  return {
    model,
    version,
    maxBatchSize: Number(config.max_batch_size ?? 0),
    inputs,
    priorityLevels: Number(config.dynamic_batching?.priority_levels ?? 0),
  };
}
