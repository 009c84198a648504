import { TriageError } from '../errors/triage-error';
import type { InferRequestPeek } from '../protocol/infer-request-peek';
import type { InstancePool } from '../triton/instance-pool';
import type { TritonInstance } from '../triton/triton-instance';
import type { OnDemandLoader } from './on-demand-loader';
import type { RecencyRecorder } from './recency-recorder';
import { SequenceTable } from './sequence-table';

export interface RouterOptions {
  /** A sequence that sends nothing for this long forgets its instance. */
  readonly sequenceIdleMs: number;
  /** For tests: a source of randomness in [0, 1). */
  readonly random?: () => number;
  /** Notes each inference's model as used (eviction picks the least recently used); absent: not recorded. */
  readonly recency?: RecencyRecorder;
  /** Loads deployed models no instance holds when an inference asks for one; absent or null: such calls fail at once. */
  readonly onDemand?: OnDemandLoader | null;
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
  private readonly recency: RecencyRecorder | null;
  private readonly onDemand: OnDemandLoader | null;

  constructor(private readonly pool: InstancePool, options: RouterOptions) {
    this.sequences = new SequenceTable(options.sequenceIdleMs);
    this.random = options.random ?? Math.random;
    this.recency = options.recency ?? null;
    this.onDemand = options.onDemand ?? null;
  }

  /**
   * The instance for a call, or a TriageError (NOT_FOUND for a model no instance knows,
   * UNAVAILABLE when none can serve it now). When no instance is known to serve the
   * model, the pool's model index is refreshed once before giving up. An inference
   * passes its deadline (ms since the epoch, Infinity: none) as `inferenceDeadlineMs`:
   * it may then wait for an on-demand load (see routeAfterRefresh), and counts as a use.
   */
  async route(peek: InferRequestPeek, inferenceDeadlineMs: number | null = null): Promise<TritonInstance> {
    const immediate = this.tryRoute(peek);
    const instance = immediate instanceof TriageError ? await this.routeAfterRefresh(peek, immediate, inferenceDeadlineMs) : immediate;
    if (inferenceDeadlineMs !== null) this.recordUse(peek.modelName, Date.now());
    return instance;
  }

  /**
   * The second chance after tryRoute failed with `error`: when no instance was known to
   * serve the model, refresh the model index once and route again; any other refusal
   * (a sequence whose instance is gone) stands. For an inference (`inferenceDeadlineMs`
   * not null) of a model that no instance holds at all, and that the registry says is
   * deployed, the call then waits for its on-demand load up to the on-demand timeout
   * and its own deadline; a model not registered or not deployed keeps the answer.
   */
  async routeAfterRefresh(peek: InferRequestPeek, error: TriageError, inferenceDeadlineMs: number | null = null): Promise<TritonInstance> {
    if (!this.noInstanceErrors.has(error)) throw error;
    await this.pool.refreshModels();
    const again = this.tryRoute(peek);
    if (!(again instanceof TriageError)) return again;
    const model = peek.modelName;
    if (inferenceDeadlineMs === null || this.onDemand === null || model === '' || !this.noInstanceErrors.has(again) || this.pool.candidates(model, '').length > 0) throw again;
    if (!await this.onDemand.awaitLoaded(model, inferenceDeadlineMs)) throw again;
    return unwrap(this.tryRoute(peek));
  }

  /** An inference of the model was routed at timeMs (ms since the epoch): one Map set. */
  recordUse(model: string, timeMs: number): void {
    this.recency?.note(model, timeMs);
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
