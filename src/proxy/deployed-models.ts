import { performance } from 'node:perf_hooks';
import type { ModelRecord } from '../registry/model-record';

/** Answers kept at most this many models (names come from requests: an unbounded cache would be a memory leak). */
const MAX_ENTRIES = 10_000;

interface Entry {
  readonly answer: Promise<boolean>;
  readonly expiresMs: number;
}

/**
 * Whether the registry says a model is deployed (a deployment with replicas other than
 * 0), cached for ttlMs per model, so requests for a model no instance holds cost at most
 * one registry read per model and period. A read that fails counts as "not deployed"
 * for the period (the caller keeps its own answer).
 */
export class DeployedModels {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly read: (model: string) => Promise<ModelRecord | null>,
    private readonly ttlMs: number,
    private readonly onReadFailure: (model: string, error: Error) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  isDeployed(model: string): Promise<boolean> {
    const now = this.nowMs();
    const cached = this.cache.get(model);
    if (cached !== undefined && cached.expiresMs > now) return cached.answer;
    if (this.cache.size >= MAX_ENTRIES) this.dropExpired(now);
    const answer = this.read(model).then(
      (record) => record !== null && record.deployment !== null && record.deployment.replicas !== 0,
      (error: unknown) => {
        this.onReadFailure(model, error as Error);
        return false;
      },
    );
    this.cache.delete(model);
    this.cache.set(model, { answer, expiresMs: now + this.ttlMs });
    return answer;
  }

  private dropExpired(now: number): void {
    for (const [model, entry] of this.cache) if (entry.expiresMs <= now) this.cache.delete(model);
    // Still full: the oldest entries go (a Map iterates in insertion order).
    for (const model of this.cache.keys()) {
      if (this.cache.size < MAX_ENTRIES) break;
      this.cache.delete(model);
    }
  }
}
