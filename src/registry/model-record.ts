/** One version folder of a registered model, as written to the repository. */
export interface ModelVersionRecord {
  readonly version: string;
  /** Bytes of every file of the version folder. */
  readonly size_bytes: number;
  /** SHA-256 over the sorted list of `<relative path>\0<file sha256>\n` of the folder: equal folders, equal digests. */
  readonly sha256: string;
  readonly files: number;
  readonly created_at: string;
}

/**
 * Where a model should run. `replicas` instances (or every instance with 'all') that
 * match `instance_labels`; `version_policy` (Triton's ModelVersionPolicy as JSON), when
 * set, replaces the config's at load. `replicas: 0` unloads the model everywhere.
 */
export interface DeploymentSpec {
  readonly replicas: number | 'all';
  readonly instance_labels: Readonly<Record<string, string>> | null;
  readonly version_policy: Readonly<Record<string, unknown>> | null;
  readonly updated_at: string;
}

/** Who made a change: the tenant and key id of the caller (the bootstrap key is tenant `admin`). */
export interface Actor {
  readonly tenant_id: string;
  readonly key_id: string;
}

/**
 * A model in the registry. The config is Triton's ModelConfig as JSON with proto field
 * names (what RepositoryModelLoad's `config` parameter takes). `deployment` null means
 * the controller leaves the model alone (found in the repository, never deployed).
 * `revision` grows by one with every write; writes compare it (see RegistryStore).
 */
export interface ModelRecord {
  readonly name: string;
  readonly platform: string;
  readonly backend: string;
  readonly max_batch_size: number;
  readonly config: Readonly<Record<string, unknown>>;
  readonly versions: readonly ModelVersionRecord[];
  readonly owner: Actor;
  /** Declared memory footprint in bytes (placement), or null to measure it after a load. */
  readonly footprint_bytes: number | null;
  readonly deployment: DeploymentSpec | null;
  readonly created_at: string;
  readonly updated_at: string;
  readonly revision: number;
}

/** Observed state of one model on one instance, written by the controller. */
export type PlacementState = 'LOADING' | 'READY' | 'FAILED' | 'UNLOADING';

export interface PlacementRecord {
  readonly instance: string;
  readonly state: PlacementState;
  /** Why it FAILED (Triton's message), else null. */
  readonly reason: string | null;
  readonly versions: readonly string[];
  readonly updated_at: string;
}

/** A model's footprint as an instance measured it after a load (controller/footprint-measurement.ts), with the load it measured. */
export interface MeasuredFootprint {
  readonly bytes: number;
  /** The load signature (config and served versions) the measurement belongs to: another load needs its own. */
  readonly digest: string;
  readonly instance: string;
  readonly measured_at: string;
}
