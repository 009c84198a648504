/**
 * The parts of an inference.ModelConfig that local-triton reads, in the plain-object
 * form the text-format parser and the JSON reader produce (proto field names, enums
 * as names, 64-bit integers as numbers). Every other field is kept as given and served
 * back unchanged through the ModelConfig RPC.
 */
export interface TensorConfig {
  name?: string;
  data_type?: string;
  dims?: number[];
  reshape?: { shape?: number[] };
  optional?: boolean;
  [field: string]: unknown;
}

export interface QueuePolicyConfig {
  timeout_action?: string;
  default_timeout_microseconds?: number;
  allow_timeout_override?: boolean;
  max_queue_size?: number;
}

export interface DynamicBatchingConfig {
  preferred_batch_size?: number[];
  max_queue_delay_microseconds?: number;
  preserve_ordering?: boolean;
  priority_levels?: number;
  default_priority_level?: number;
  default_queue_policy?: QueuePolicyConfig;
  priority_queue_policy?: Record<string, QueuePolicyConfig>;
}

export interface InstanceGroupConfig {
  name?: string;
  kind?: string;
  count?: number;
  gpus?: number[];
  [field: string]: unknown;
}

export interface VersionPolicyConfig {
  latest?: { num_versions?: number };
  all?: Record<string, never>;
  specific?: { versions?: number[] };
}

export interface ModelConfigObject {
  name?: string;
  platform?: string;
  backend?: string;
  version_policy?: VersionPolicyConfig;
  max_batch_size?: number;
  input?: TensorConfig[];
  output?: TensorConfig[];
  dynamic_batching?: DynamicBatchingConfig;
  sequence_batching?: unknown;
  ensemble_scheduling?: unknown;
  instance_group?: InstanceGroupConfig[];
  default_model_filename?: string;
  [field: string]: unknown;
}
