import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TriageError } from '../../errors/triage-error';
import type { Logger } from '../../observability/logger';
import { LoadedModelVersion } from './loaded-model-version';
import { checkLoadOverrides, writeOverrideDirectory, type LoadOverrides } from './load-overrides';
import { resolveModelConfig } from './model-config-source';
import type { ModelIndexEntry, ModelRecord, VersionRecord } from './model-states';
import { isDirectory, listModelNames, listVersions } from './repository-layout';
import { selectVersions } from './version-policy';

export type ModelControlMode = 'none' | 'explicit';

export interface ModelManagerOptions {
  readonly repositoryPath: string;
  readonly controlMode: ModelControlMode;
  readonly strictReadiness: boolean;
  readonly logger: Logger;
}

/**
 * Model lifecycle, as Triton's model repository manager: loads and unloads models and
 * versions, keeps each version's state and reason, and resolves inference requests to
 * a READY version. Loads and unloads of one model are serialized; different models
 * proceed in parallel.
 */
export class ModelManager {
  private readonly records = new Map<string, ModelRecord>();
  private stopping = false;

  constructor(private readonly options: ModelManagerOptions) {}

  /** Loads what the control mode says at startup: every model (none), or the named ones (explicit; '*' = all). */
  async start(loadModels: readonly string[]): Promise<void> {
    const all = await listModelNames(this.options.repositoryPath);
    const names = this.options.controlMode === 'none' || loadModels.includes('*') ? all : [...new Set(loadModels)];
    await Promise.all(names.map(async (name) => {
      try {
        await this.loadUnchecked(name, {});
      } catch (error) {
        this.options.logger.warn({ model: name, reason: (error as Error).message }, 'model failed to load at startup');
      }
    }));
  }

  /** RepositoryModelLoad: resolves when the model is READY; throws with the reason when it is not. */
  load(name: string, overrides: LoadOverrides): Promise<void> {
    this.checkModelControl();
    return this.loadUnchecked(name, overrides);
  }

  /** RepositoryModelUnload: returns once the unload has started; in-flight requests finish first. */
  async unload(name: string): Promise<void> {
    this.checkModelControl();
    checkModelName(name);
    const record = this.records.get(name);
    if (record === undefined) return;
    record.wanted = false;
    let started!: () => void;
    const unloadStarted = new Promise<void>((resolve) => { started = resolve; });
    void this.withLock(record, async () => {
      const unloading = [...record.versions.entries()].filter(([, entry]) => entry.loaded !== null);
      for (const [, entry] of unloading) entry.state = 'UNLOADING';
      started();
      await Promise.all(unloading.map(([version, entry]) => this.finishUnload(record, version, entry)));
      await this.removeOverride(record);
    });
    await unloadStarted;
  }

  /** The READY version an inference request addresses ('' = the newest READY version). */
  resolve(name: string, version: string): LoadedModelVersion {
    const record = this.records.get(name);
    if (record === undefined) throw new TriageError('NOT_FOUND', `Request for unknown model: '${name}' is not found`);
    if (version === '') {
      const newest = this.readyVersions(record).at(-1);
      // Triton's ModelLifeCycle::GetModel: NOT_FOUND when no version is READY (e.g. after an unload).
      if (newest === undefined) throw new TriageError('NOT_FOUND', `Request for unknown model: '${name}' has no available versions`);
      return newest;
    }
    const number = parseVersion(version);
    const entry = record.versions.get(number);
    if (entry === undefined) throw new TriageError('NOT_FOUND', `Request for unknown model: '${name}' version ${number} is not found`);
    if (entry.state !== 'READY' || entry.loaded === null) {
      throw new TriageError('UNAVAILABLE', `Request for unknown model: '${name}' version ${number} is not at ready state`);
    }
    return entry.loaded;
  }

  /** ModelReady: never an error; an unknown model or version is simply not ready. */
  isReady(name: string, version: string): boolean {
    try {
      this.resolve(name, version);
      return true;
    } catch {
      return false;
    }
  }

  /** Every READY version of a model, ascending. */
  readyVersionsOf(name: string): LoadedModelVersion[] {
    const record = this.records.get(name);
    return record === undefined ? [] : this.readyVersions(record);
  }

  /** Every version that has instances up (READY or still draining), for statistics and metrics. */
  loadedVersions(): LoadedModelVersion[] {
    const versions: LoadedModelVersion[] = [];
    for (const record of this.records.values()) {
      for (const entry of record.versions.values()) if (entry.loaded !== null) versions.push(entry.loaded);
    }
    return versions;
  }

  /** RepositoryIndex: every model of the repository and every model loaded from overrides. */
  async index(readyOnly: boolean): Promise<ModelIndexEntry[]> {
    const names = new Set([...await listModelNames(this.options.repositoryPath), ...this.records.keys()]);
    const entries: ModelIndexEntry[] = [];
    for (const name of [...names].sort()) {
      const record = this.records.get(name);
      if (record === undefined) {
        entries.push({ name, version: '', state: '', reason: '' });
      } else if (record.versions.size === 0) {
        entries.push({ name, version: '', state: 'UNAVAILABLE', reason: record.failure ?? '' });
      } else {
        for (const [version, entry] of [...record.versions.entries()].sort(([a], [b]) => a - b)) {
          entries.push({ name, version: String(version), state: entry.state, reason: entry.reason });
        }
      }
    }
    return readyOnly ? entries.filter((entry) => entry.state === 'READY') : entries;
  }

  /**
   * ServerReady: not stopping and, with strict readiness (Triton's rule), every version of
   * every model asked for is READY, except versions that were deliberately unloaded; a
   * model whose configuration failed counts as not ready.
   */
  isServerReady(): boolean {
    if (this.stopping) return false;
    if (!this.options.strictReadiness) return true;
    for (const record of this.records.values()) {
      if (!record.wanted) continue;
      if (record.failure !== null) return false;
      for (const entry of record.versions.values()) {
        if (entry.state !== 'READY' && !(entry.state === 'UNAVAILABLE' && entry.reason === 'unloaded')) return false;
      }
    }
    return true;
  }

  /** Unloads everything; resolves when every instance is released. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.records.values()].map((record) => this.withLock(record, async () => {
      await Promise.all([...record.versions.entries()]
        .filter(([, entry]) => entry.loaded !== null)
        .map(([version, entry]) => this.finishUnload(record, version, entry)));
      await this.removeOverride(record);
    })));
  }

  private async loadUnchecked(name: string, overrides: LoadOverrides): Promise<void> {
    checkModelName(name);
    // A refused request leaves no record behind: it is not a model that failed to load.
    checkLoadOverrides(name, overrides);
    if (this.stopping) throw new TriageError('UNAVAILABLE', 'server is shutting down');
    const record = this.recordFor(name);
    record.wanted = true;
    await this.withLock(record, () => this.loadLocked(record, overrides));
  }

  private async loadLocked(record: ModelRecord, overrides: LoadOverrides): Promise<void> {
    const { name } = record;
    const files = overrides.files ?? new Map<string, Buffer>();
    const overridePath = files.size > 0 ? await writeOverrideDirectory(name, files) : null;
    const modelPath = overridePath ?? join(this.options.repositoryPath, name);
    if (overridePath === null && !(await isDirectory(modelPath))) {
      record.wanted = false;
      if (record.versions.size === 0 && record.failure === null) this.records.delete(name);
      // Triton answers INTERNAL with this text (ModelRepositoryManager::LoadUnloadModel); clients match on it.
      throw new TriageError('INTERNAL', `failed to load '${name}', failed to poll from model repository: no model directory '${name}' in the model repository`);
    }
    let plan: { resolved: Awaited<ReturnType<typeof resolveModelConfig>>; versions: number[] };
    try {
      const resolved = await resolveModelConfig(name, modelPath, overrides.configJson);
      const versions = selectVersions(resolved.config.version_policy, await listVersions(modelPath));
      if (versions.length === 0) throw new Error(`at least one version must be available under the version policy of model '${name}'`);
      plan = { resolved, versions };
    } catch (error) {
      if (overridePath !== null) await rm(overridePath, { recursive: true, force: true });
      const reason = (error as Error).message;
      if (this.readyVersions(record).length === 0) {
        record.failure = reason;
        record.versions.clear();
      }
      this.options.logger.warn({ model: name, reason }, 'model configuration rejected');
      throw new TriageError('INVALID_ARGUMENT', `failed to load '${name}': ${reason}`);
    }
    const outcomes = await Promise.all(plan.versions.map((version) => this.loadVersion(record, modelPath, version, plan.resolved)));
    const failures = outcomes.filter((outcome): outcome is string => outcome !== null);
    const keptOld = failures.length > 0 && this.readyVersions(record).length > 0;
    if (!keptOld) await this.retireOtherVersions(record, plan.versions);
    if (overridePath !== null) {
      if (failures.length < plan.versions.length) {
        const previous = record.overridePath;
        record.overridePath = overridePath;
        if (previous !== null && previous !== overridePath) await rm(previous, { recursive: true, force: true });
      } else {
        await rm(overridePath, { recursive: true, force: true });
      }
    }
    record.failure = null;
    if (failures.length > 0) throw new TriageError('INVALID_ARGUMENT', `load failed for model '${name}': ${failures.join('')}`);
  }

  /** Loads one version; returns null on success or the failure text Triton reports. */
  private async loadVersion(record: ModelRecord, modelPath: string, version: number, resolved: Awaited<ReturnType<typeof resolveModelConfig>>): Promise<string | null> {
    const previous = record.versions.get(version);
    const old = previous?.loaded ?? null;
    if (old === null) record.versions.set(version, { state: 'LOADING', reason: '', loaded: null });
    const startedMs = Date.now();
    try {
      const loaded = await LoadedModelVersion.load(resolved.spec, resolved.config, modelPath, version);
      record.versions.set(version, { state: 'READY', reason: '', loaded });
      this.options.logger.info({ model: record.name, version, backend: resolved.spec.backend, instances: resolved.spec.instanceCount, ms: Date.now() - startedMs }, 'model version ready');
      if (old !== null) void old.unload();
      return null;
    } catch (error) {
      const reason = (error as Error).message;
      this.options.logger.warn({ model: record.name, version, reason }, 'model version failed to load');
      if (old === null) record.versions.set(version, { state: 'UNAVAILABLE', reason, loaded: null });
      return `version ${version} is at UNAVAILABLE state: ${reason};\n`;
    }
  }

  /** After a successful (re)load, versions outside the new policy are unloaded. */
  private async retireOtherVersions(record: ModelRecord, keep: readonly number[]): Promise<void> {
    await Promise.all([...record.versions.entries()]
      .filter(([version]) => !keep.includes(version))
      .map(async ([version, entry]) => {
        if (entry.loaded === null) { record.versions.delete(version); return; }
        entry.state = 'UNLOADING';
        await this.finishUnload(record, version, entry);
      }));
  }

  private async finishUnload(record: ModelRecord, version: number, entry: VersionRecord): Promise<void> {
    const loaded = entry.loaded;
    if (loaded === null) return;
    entry.state = 'UNLOADING';
    await loaded.unload();
    if (record.versions.get(version) === entry) record.versions.set(version, { state: 'UNAVAILABLE', reason: 'unloaded', loaded: null });
    this.options.logger.info({ model: record.name, version }, 'model version unloaded');
  }

  private async removeOverride(record: ModelRecord): Promise<void> {
    if (record.overridePath === null) return;
    const path = record.overridePath;
    record.overridePath = null;
    await rm(path, { recursive: true, force: true });
  }

  private readyVersions(record: ModelRecord): LoadedModelVersion[] {
    return [...record.versions.entries()]
      .filter(([, entry]) => entry.state === 'READY' && entry.loaded !== null)
      .sort(([a], [b]) => a - b)
      .map(([, entry]) => entry.loaded as LoadedModelVersion);
  }

  private recordFor(name: string): ModelRecord {
    let record = this.records.get(name);
    if (record === undefined) {
      record = { name, versions: new Map(), failure: null, wanted: false, overridePath: null, lock: Promise.resolve() };
      this.records.set(name, record);
    }
    return record;
  }

  /** Runs `work` after every earlier load/unload of the model has finished; a failure does not break the chain. */
  private withLock<T>(record: ModelRecord, work: () => Promise<T>): Promise<T> {
    const result = record.lock.then(work);
    record.lock = result.then(() => undefined, () => undefined);
    return result;
  }

  private checkModelControl(): void {
    if (this.options.controlMode !== 'explicit') {
      throw new TriageError('UNAVAILABLE', 'explicit model load / unload is not allowed if polling is enabled');
    }
  }
}

/** Triton's rule: non-empty after trimming, no '/', not '..'. */
function checkModelName(name: string): void {
  if (name.trim() === '' || name.includes('/') || name === '..' || name === '.') {
    throw new TriageError('INVALID_ARGUMENT', `invalid model name '${name}': it must be non-empty, must not contain '/' and must not be '.' or '..'`);
  }
}

function parseVersion(version: string): number {
  if (!/^[0-9]+$/.test(version) || !Number.isSafeInteger(Number(version))) {
    throw new TriageError('INVALID_ARGUMENT', `failed to parse model version '${version}': a version is a positive integer`);
  }
  return Number(version);
}
