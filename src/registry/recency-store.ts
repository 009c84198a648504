import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '../redis/redis-client';
import { projectRoot } from '../protocol/project-paths';
import type { RedisKeys } from '../redis/redis-keys';
import { TRIAGE_VERSION } from '../version';

const RAISE_COMMAND = `triageRaiseRecency_v${TRIAGE_VERSION.replace(/[^0-9A-Za-z]/g, '_')}`;

type ScriptCall = (...args: (string | number)[]) => Promise<number>;

/**
 * When each model was last used, in one Redis hash: the proxies raise the times (a time
 * never goes back, whatever the order in which several proxies write), the controller
 * reads them to decide which models give their room when a load needs it.
 */
export class RecencyStore {
  private readonly raiseScript: ScriptCall;

  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {
    if (!(RAISE_COMMAND in redis)) {
      redis.defineCommand(RAISE_COMMAND, { numberOfKeys: 1, lua: readFileSync(join(projectRoot(), 'src', 'registry', 'lua', 'raise-recency-1.lua'), 'utf8') });
    }
    this.raiseScript = (redis as unknown as Record<string, ScriptCall>)[RAISE_COMMAND] as ScriptCall;
  }

  /** Raises each model's last use to the given time (ms since the epoch), unless it is already later. */
  async raise(uses: ReadonlyMap<string, number>): Promise<void> {
    if (uses.size === 0) return;
    const pairs: (string | number)[] = [];
    for (const [model, timeMs] of uses) pairs.push(model, Math.floor(timeMs));
    await this.raiseScript.call(this.redis, this.keys.modelRecency(), ...pairs);
  }

  /** Model -> last use (ms since the epoch), for every model used since it was registered. */
  async all(): Promise<Map<string, number>> {
    const raw = await this.redis.hgetall(this.keys.modelRecency());
    const times = new Map<string, number>();
    for (const [model, text] of Object.entries(raw)) {
      const timeMs = Number(text);
      if (Number.isFinite(timeMs)) times.set(model, timeMs);
    }
    return times;
  }

  /** Drops the times of models no longer registered. */
  async forget(models: readonly string[]): Promise<void> {
    if (models.length > 0) await this.redis.hdel(this.keys.modelRecency(), ...models);
  }

  /** Tells the controller a request waits for the model, so it reconciles now rather than at its next tick. */
  async announceDemand(model: string): Promise<void> {
    await this.redis.publish(this.keys.modelDemand(), model);
  }
}
