import type { LoadedModelVersion } from './loaded-model-version';

/** Triton's model states, as RepositoryIndex reports them. */
export type ModelState = 'UNKNOWN' | 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';

export interface VersionRecord {
  state: ModelState;
  reason: string;
  /** Set exactly when state is READY or UNLOADING. */
  loaded: LoadedModelVersion | null;
}

/** What local-triton knows of one model it has been asked to load at least once. */
export interface ModelRecord {
  readonly name: string;
  readonly versions: Map<number, VersionRecord>;
  /** Why the model as a whole could not load (bad config, no version), when it could not. */
  failure: string | null;
  /** True while the server is asked to serve it (strict readiness counts only these). */
  wanted: boolean;
  /** The temporary directory of `file:` overrides the current load came from, if any. */
  overridePath: string | null;
  /** Tail of the chain that serializes loads and unloads of this model. */
  lock: Promise<void>;
}

export interface ModelIndexEntry {
  readonly name: string;
  readonly version: string;
  readonly state: string;
  readonly reason: string;
}
