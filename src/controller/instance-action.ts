/** What one instance needs for one managed model. */
export type InstanceAction = 'none' | 'load' | 'reload' | 'unload';

export interface InstanceActionInput {
  /** The plan puts the model on this instance. */
  readonly placed: boolean;
  /** The versions a load of the current record serves (servedVersions). */
  readonly servedVersions: readonly string[];
  /** The versions the instance reports READY (empty: none). */
  readonly readyVersions: ReadonlySet<string>;
  /** Load signature of what the controller last loaded there (null: unknown). */
  readonly loadedDigest: string | null;
  /** Load signature of the current record. */
  readonly desiredDigest: string;
}

/**
 * Compares desired and observed state of one (model, instance): a placed model that is
 * not READY there needs a load; one READY with other versions, or loaded from another
 * config (or from an unknown one), needs a reload; a model READY where it is not placed
 * needs an unload.
 */
export function instanceAction(input: InstanceActionInput): InstanceAction {
  if (!input.placed) return input.readyVersions.size > 0 ? 'unload' : 'none';
  if (input.readyVersions.size === 0) return 'load';
  const sameVersions = input.readyVersions.size === input.servedVersions.length && input.servedVersions.every((version) => input.readyVersions.has(version));
  return sameVersions && input.loadedDigest === input.desiredDigest ? 'none' : 'reload';
}
