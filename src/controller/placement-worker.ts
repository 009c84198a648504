import type { Logger } from '../observability/logger';
import type { ModelRecord } from '../registry/model-record';
import type { InstancePool } from '../triton/instance-pool';
import type { TritonInstance } from '../triton/triton-instance';
import type { InstanceProfiles } from './instance-profiles';
import { buildLoadRequest } from './load-request';
import { measureFootprint } from './footprint-measurement';
import type { RegistryStore } from '../registry/registry-store';
import type { PlacementBook } from './placement-book';
import { repositoryLoad, repositoryUnload, tritonMessage } from './repository-calls';
import type { RetryBackoff } from './retry-backoff';

/** A managed model as the latest reconcile pass wants it. */
export interface DesiredModel {
  readonly record: ModelRecord;
  /** servedVersions(record). */
  readonly versions: readonly string[];
  /** loadSignature(record, versions). */
  readonly digest: string;
  /** Addresses the plan puts it on. */
  readonly assigned: ReadonlySet<string>;
}

export interface PlacementWorkerOptions {
  readonly book: PlacementBook;
  readonly backoff: RetryBackoff;
  readonly pool: Pick<InstancePool, 'probeNow'>;
  readonly profiles: InstanceProfiles;
  /** The model repository push delivery reads from. */
  readonly repository: string;
  /** Deadline of each RepositoryModelLoad / Unload call. */
  readonly callTimeoutMs: number;
  /** Where footprints measured after a load are kept. */
  readonly footprints: Pick<RegistryStore, 'setMeasuredFootprint'>;
  readonly logger: Logger;
  /** Nothing is written once this turns false (another process leads). */
  readonly isLeader: () => boolean;
  readonly nowMs: () => number;
}

/**
 * Carries out one load or unload on one instance and records it: LOADING or UNLOADING
 * before the call; after it, the instance is probed at once and the record says what
 * the instance reports: READY with its versions, FAILED with Triton's message (and a
 * backoff before the same attempt is retried), or nothing (unloaded).
 */
export class PlacementWorker {
  constructor(private readonly options: PlacementWorkerOptions) {}

  async load(instance: TritonInstance, model: DesiredModel): Promise<void> {
    const { book, logger } = this.options;
    const name = model.record.name;
    const previousDigest = book.get(name, instance.address)?.digest ?? null;
    if (!this.options.isLeader()) return;
    await book.set(name, instance.address, 'LOADING', model.versions, null, previousDigest);
    const startedMs = this.options.nowMs();
    let failure: string | null = null;
    try {
      const delivery = this.options.profiles.delivery(instance.address);
      const request = await buildLoadRequest(model.record, model.versions, delivery, this.options.repository);
      await repositoryLoad(instance.client, request, this.options.callTimeoutMs);
    } catch (error) {
      failure = tritonMessage(error);
    }
    await this.options.pool.probeNow(instance.address);
    if (!this.options.isLeader()) return;
    const ready = sortedVersions(instance.readyModels.get(name));
    if (failure === null && !sameList(ready, model.versions)) {
      failure = `the load succeeded but the instance reports ${ready.length === 0 ? 'no version' : `version(s) ${ready.join(', ')}`} READY, not ${model.versions.join(', ')}`;
    }
    if (failure === null) {
      this.options.backoff.succeeded(name, instance.address);
      await book.set(name, instance.address, 'READY', ready, null, model.digest);
      logger.info({ model: name, instance: instance.address, versions: ready, ms: Math.round(this.options.nowMs() - startedMs) }, 'controller: model READY');
      await this.recordFootprint(instance, model);
      return;
    }
    const retryInMs = this.options.backoff.failed(name, instance.address, model.digest, this.options.nowMs());
    await book.set(name, instance.address, 'FAILED', model.versions, failure, previousDigest);
    logger.warn({ model: name, instance: instance.address, reason: failure, retryInMs }, 'controller: load failed');
  }

  /** What the instance measured for the load (ModelStatistics.memory_usage), kept for placement; a failure to read it changes nothing. */
  private async recordFootprint(instance: TritonInstance, model: DesiredModel): Promise<void> {
    try {
      const bytes = await measureFootprint(instance.client, model.record.name, this.options.callTimeoutMs);
      if (bytes === null || !this.options.isLeader()) return;
      await this.options.footprints.setMeasuredFootprint(model.record.name, { bytes, digest: model.digest, instance: instance.address, measured_at: new Date().toISOString() });
    } catch (error) {
      this.options.logger.debug({ model: model.record.name, instance: instance.address, reason: tritonMessage(error) }, 'controller: no footprint measured');
    }
  }

  async unload(instance: TritonInstance, name: string): Promise<void> {
    const { book, logger } = this.options;
    const digest = book.get(name, instance.address)?.digest ?? null;
    if (!this.options.isLeader()) return;
    await book.set(name, instance.address, 'UNLOADING', sortedVersions(instance.readyModels.get(name)), null, digest);
    let failure: string | null = null;
    try {
      await repositoryUnload(instance.client, name, this.options.callTimeoutMs);
    } catch (error) {
      failure = tritonMessage(error);
    }
    await this.options.pool.probeNow(instance.address);
    if (!this.options.isLeader()) return;
    const ready = sortedVersions(instance.readyModels.get(name));
    if (failure === null && ready.length > 0) failure = `the unload succeeded but the instance still reports version(s) ${ready.join(', ')} READY`;
    if (failure === null) {
      this.options.backoff.succeeded(name, instance.address);
      await book.clear(name, instance.address);
      logger.info({ model: name, instance: instance.address }, 'controller: model unloaded');
      return;
    }
    const retryInMs = this.options.backoff.failed(name, instance.address, 'unload', this.options.nowMs());
    await book.set(name, instance.address, 'FAILED', ready, failure, digest);
    logger.warn({ model: name, instance: instance.address, reason: failure, retryInMs }, 'controller: unload failed');
  }
}

/** A model's versions in numeric order. */
export function sortedVersions(versions: ReadonlySet<string> | undefined): string[] {
  return [...(versions ?? [])].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
