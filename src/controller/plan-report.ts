import type { Logger } from '../observability/logger';
import type { RegistryStore } from '../registry/registry-store';
import type { Eviction, UnplacedModel } from './placement-policy';

/**
 * What the leader tells about its plans: each change of the unplaced models and of the
 * evictions is logged once, and the unplaced reasons are written to Redis (one hash,
 * replaced whole) whenever they change, so every API replica can show them.
 *
 * Invariant: after a successful report(), Redis holds exactly the reasons reported.
 */
export class PlanReport {
  private lastLogged = '';
  private lastEvictions = '';
  /** The reasons last written, as JSON; null: unknown (not written yet by this leader). */
  private lastWritten: string | null = null;

  constructor(private readonly store: Pick<RegistryStore, 'replaceUnplaced'>, private readonly logger: Logger) {}

  async report(unplaced: readonly UnplacedModel[], evictions: readonly Eviction[]): Promise<void> {
    const text = JSON.stringify(unplaced);
    if (text !== this.lastLogged) {
      this.lastLogged = text;
      for (const model of unplaced) this.logger.warn({ model: model.name, wanted: model.wanted, placed: model.placed, reason: model.reason }, 'controller: model not fully placed');
    }
    const evictionText = JSON.stringify(evictions);
    if (evictionText !== this.lastEvictions) {
      this.lastEvictions = evictionText;
      for (const eviction of evictions) this.logger.info({ model: eviction.name, instance: eviction.instance, for: eviction.for }, 'controller: evicting the least recently used model to make room');
    }
    const reasons = new Map(unplaced.map((model) => [model.name, model.reason]));
    const written = JSON.stringify([...reasons]);
    if (written === this.lastWritten) return;
    this.lastWritten = null;
    await this.store.replaceUnplaced(reasons);
    this.lastWritten = written;
  }

  /** Leadership lost: the next time this process leads, it writes everything again. */
  reset(): void {
    this.lastWritten = null;
  }
}
