import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from '../redis/redis-client';
import { TriageError } from '../errors/triage-error';
import { projectRoot } from '../protocol/project-paths';
import type { RedisKeys } from '../redis/redis-keys';
import { TRIAGE_VERSION } from '../version';
import type { MeasuredFootprint, ModelRecord, PlacementRecord } from './model-record';

const COMPARE_AND_SET_COMMAND = `triageRegistryCas_v${TRIAGE_VERSION.replace(/[^0-9A-Za-z]/g, '_')}`;

type ScriptCall = (...args: (string | number)[]) => Promise<number>;

/**
 * Model records and their observed placement in Redis. Every record write is a
 * compare-and-set on the record's revision, so two API replicas changing one model at
 * once cannot lose each other's change: the loser gets CONFLICT and may retry.
 */
export class RegistryStore {
  private readonly compareAndSet: ScriptCall;

  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {
    if (!(COMPARE_AND_SET_COMMAND in redis)) {
      redis.defineCommand(COMPARE_AND_SET_COMMAND, {
        numberOfKeys: 1,
        lua: readFileSync(join(projectRoot(), 'src', 'registry', 'lua', 'compare-and-set-1.lua'), 'utf8'),
      });
    }
    this.compareAndSet = (redis as unknown as Record<string, ScriptCall>)[COMPARE_AND_SET_COMMAND] as ScriptCall;
  }

  async get(name: string): Promise<ModelRecord | null> {
    const json = await this.redis.hget(this.keys.registryModels(), name);
    return json === null ? null : JSON.parse(json) as ModelRecord;
  }

  async list(): Promise<ModelRecord[]> {
    const all = await this.redis.hgetall(this.keys.registryModels());
    return Object.values(all).map((json) => JSON.parse(json) as ModelRecord).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Writes `next` (revision = previous + 1) if the stored record is still `previous` (null: absent). */
  async put(previous: ModelRecord | null, next: ModelRecord): Promise<void> {
    const written = await this.compareAndSet.call(this.redis, this.keys.registryModels(), next.name, previous === null ? '' : String(previous.revision), JSON.stringify(next));
    if (written !== 1) throw changedMeanwhile(next.name, previous);
    await this.announce(next.name);
  }

  /** Removes the record (if still `previous`) and its placement. */
  async delete(previous: ModelRecord): Promise<void> {
    const written = await this.compareAndSet.call(this.redis, this.keys.registryModels(), previous.name, String(previous.revision), '');
    if (written !== 1) throw changedMeanwhile(previous.name, previous);
    await this.redis.del(this.keys.registryPlacement(previous.name));
    await this.redis.hdel(this.keys.measuredFootprints(), previous.name);
    await this.announce(previous.name);
  }

  async placement(name: string): Promise<PlacementRecord[]> {
    const all = await this.redis.hgetall(this.keys.registryPlacement(name));
    return Object.values(all).map((json) => JSON.parse(json) as PlacementRecord).sort((a, b) => a.instance.localeCompare(b.instance));
  }

  async setPlacement(name: string, record: PlacementRecord): Promise<void> {
    await this.redis.hset(this.keys.registryPlacement(name), record.instance, JSON.stringify(record));
  }

  async clearPlacement(name: string, instance: string): Promise<void> {
    await this.redis.hdel(this.keys.registryPlacement(name), instance);
  }

  /** Footprints measured after loads, by model (see controller/footprint-measurement.ts). */
  async measuredFootprints(): Promise<Map<string, MeasuredFootprint>> {
    const all = await this.redis.hgetall(this.keys.measuredFootprints());
    return new Map(Object.entries(all).map(([name, json]) => [name, JSON.parse(json) as MeasuredFootprint]));
  }

  async measuredFootprint(name: string): Promise<MeasuredFootprint | null> {
    const json = await this.redis.hget(this.keys.measuredFootprints(), name);
    return json === null ? null : JSON.parse(json) as MeasuredFootprint;
  }

  async setMeasuredFootprint(name: string, measured: MeasuredFootprint): Promise<void> {
    await this.redis.hset(this.keys.measuredFootprints(), name, JSON.stringify(measured));
  }

  /** Why the model has fewer replicas than its deployment wants, as the controller last planned (null: fully placed, or unmanaged). */
  async unplacedReason(name: string): Promise<string | null> {
    return this.redis.hget(this.keys.unplacedModels(), name);
  }

  /** Replaces every unplaced reason at once (the controller's latest plan). */
  async replaceUnplaced(reasons: ReadonlyMap<string, string>): Promise<void> {
    const transaction = this.redis.multi().del(this.keys.unplacedModels());
    if (reasons.size > 0) transaction.hset(this.keys.unplacedModels(), Object.fromEntries(reasons));
    for (const [error] of await transaction.exec() ?? []) if (error !== null) throw error;
  }

  /** Tells controllers a model's desired state changed, so they reconcile now rather than at the next tick. */
  private async announce(name: string): Promise<void> {
    await this.redis.publish(this.keys.registryChanges(), name);
  }
}

function changedMeanwhile(name: string, previous: ModelRecord | null): TriageError {
  return previous === null
    ? new TriageError('ALREADY_EXISTS', `model '${name}' is already registered: add a version with POST /v1/models/${name}/versions`)
    : new TriageError('CONFLICT', `model '${name}' changed while this request ran (revision ${previous.revision} is no longer current): retry`);
}
