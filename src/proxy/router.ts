import { TriageError } from '../errors/triage-error';
import type { InferRequestPeek } from '../protocol/infer-request-peek';
import type { InstancePool } from '../triton/instance-pool';
import type { TritonInstance } from '../triton/triton-instance';
import { SequenceTable } from './sequence-table';

export interface RouterOptions {
  /** A sequence that sends nothing for this long forgets its instance. */
  readonly sequenceIdleMs: number;
  /** For tests: a source of randomness in [0, 1). */
  readonly random?: () => number;
}

/**
 * Chooses the instance for a call: among healthy instances where the model (and
 * requested version) is READY, the less loaded of two picked at random (power of two
 * choices on outstanding calls). A call with a sequence_id goes where its sequence
 * lives; sequence_start may open it anywhere, sequence_end closes it.
 */
export class Router {
  private readonly sequences: SequenceTable;
  private readonly random: () => number;
  /** Errors that say no instance serves the model (a model index refresh may cure them). */
  private readonly noInstanceErrors = new WeakSet<TriageError>();

  constructor(private readonly pool: InstancePool, options: RouterOptions) {
    this.sequences = new SequenceTable(options.sequenceIdleMs);
    this.random = options.random ?? Math.random;
  }

  /**
   * The instance for a call, or a TriageError (NOT_FOUND for a model no instance knows,
   * UNAVAILABLE when none can serve it now). When no instance is known to serve the
   * model, the pool's model index is refreshed once before giving up.
   */
  async route(peek: InferRequestPeek): Promise<TritonInstance> {
    const immediate = this.tryRoute(peek);
    return immediate instanceof TriageError ? this.routeAfterRefresh(peek, immediate) : immediate;
  }

  /**
   * The second chance after tryRoute failed with `error`: when no instance was known to
   * serve the model, refresh the model index once and route again; any other refusal
   * (a sequence whose instance is gone) stands.
   */
  async routeAfterRefresh(peek: InferRequestPeek, error: TriageError): Promise<TritonInstance> {
    if (!this.noInstanceErrors.has(error)) throw error;
    await this.pool.refreshModels();
    return unwrap(this.tryRoute(peek));
  }

  /** Same as route() for calls that must not wait (no refresh). */
  tryRoute(peek: InferRequestPeek, exclude: TritonInstance | null = null): TritonInstance | TriageError {
    const candidates = this.pool.candidates(peek.modelName, peek.modelVersion).filter((instance) => instance !== exclude);
    if (peek.sequenceId !== null) return this.routeSequence(peek, candidates);
    return this.pickLeastLoaded(candidates) ?? this.noInstance(peek);
  }

  /** Sequences currently pinned to an instance (started, not yet ended or idle). */
  get activeSequences(): number {
    return this.sequences.size;
  }

  stop(): void {
    this.sequences.clear();
  }

  private routeSequence(peek: InferRequestPeek, candidates: TritonInstance[]): TritonInstance | TriageError {
    const id = peek.sequenceId as string;
    const current = peek.sequenceStart ? undefined : this.sequences.get(id);
    let chosen: TritonInstance | undefined;
    if (current !== undefined) {
      if (!candidates.includes(current)) {
        this.sequences.delete(id);
        return new TriageError('UNAVAILABLE', `sequence ${displaySequence(id)} of model '${peek.modelName}' lives on instance ${current.address}, which cannot serve it now; restart the sequence with sequence_start`);
      }
      chosen = current;
    } else {
      chosen = this.pickLeastLoaded(candidates);
      if (chosen === undefined) return this.noInstance(peek);
    }
    if (peek.sequenceEnd) this.sequences.delete(id);
    else this.sequences.set(id, chosen);
    return chosen;
  }

  private pickLeastLoaded(candidates: TritonInstance[]): TritonInstance | undefined {
    if (candidates.length <= 1) return candidates[0];
    const first = Math.floor(this.random() * candidates.length);
    let second = Math.floor(this.random() * (candidates.length - 1));
    if (second >= first) second += 1;
    const a = candidates[first] as TritonInstance;
    const b = candidates[second] as TritonInstance;
    return b.outstanding < a.outstanding ? b : a;
  }

  private noInstance(peek: InferRequestPeek): TriageError {
    const error = this.describeNoInstance(peek);
    this.noInstanceErrors.add(error);
    return error;
  }

  private describeNoInstance(peek: InferRequestPeek): TriageError {
    const { modelName: model, modelVersion: version } = peek;
    if (model === '') return new TriageError('INVALID_ARGUMENT', 'the request names no model (model_name is empty)');
    if (!this.pool.knows(model) && this.pool.candidates(model, '').length === 0) {
      return new TriageError('NOT_FOUND', `Request for unknown model: '${model}' is not found`);
    }
    if (version !== '' && this.pool.candidates(model, '').length > 0) {
      return new TriageError('NOT_FOUND', `Request for unknown model: '${model}' version ${version} is not found`);
    }
    return new TriageError('UNAVAILABLE', `no instance can serve model '${model}'${version === '' ? '' : ` version ${version}`} right now: it is not loaded on any healthy instance`);
  }
}

function unwrap(result: TritonInstance | TriageError): TritonInstance {
  if (result instanceof TriageError) throw result;
  return result;
}

function displaySequence(id: string): string {
  return id.startsWith('s:') ? `'${id.slice(2)}'` : id;
}
