import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { TriageError } from '../errors/triage-error';
import type { AuditLog } from '../observability/audit-log';
import { extractArchive, type ArchiveFormat, type ArchiveLimits } from '../repository/archive/extract-archive';
import { digestFolder } from '../repository/folder-digest';
import { modelConfigFromJson, modelConfigToJson, parseModelConfigText, printModelConfigText } from '../repository/model-config-schema';
import type { RepositoryWriter } from '../repository/repository-writer';
import { validateModelDirectory } from '../repository/validation/validate-model-directory';
import type { Actor, ModelRecord, ModelVersionRecord } from './model-record';
import { readDeploymentRequest, undeployment } from './deployment-request';
import { invalidModel, modelSummary, versionOrder } from './registry-records';
import type { RegistryStore } from './registry-store';

export interface RegistryServiceOptions {
  readonly archiveLimits: ArchiveLimits;
  /** How long DELETE waits for the controller to unload a deployed model before answering CONFLICT. */
  readonly undeployTimeoutMs: number;
  readonly now?: () => Date;
}

/**
 * The registry's rules: every model is validated before it reaches the repository,
 * written there atomically (RepositoryWriter), recorded (RegistryStore) and audited.
 * A failure at any step leaves the repository and the record as they were.
 */
export class RegistryService {
  private readonly now: () => Date;

  constructor(
    private readonly store: RegistryStore,
    private readonly writer: RepositoryWriter,
    private readonly audit: AuditLog,
    private readonly options: RegistryServiceOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  list(): Promise<ModelRecord[]> {
    return this.store.list();
  }

  async get(name: string): Promise<ModelRecord> {
    const record = await this.store.get(name);
    if (record === null) throw new TriageError('NOT_FOUND', `no model '${name}' in the registry`);
    return record;
  }

  /** Registers a model from an archive of its folder; `nameHint` (a query parameter) names it when the archive does not. */
  async create(archive: Readable, format: ArchiveFormat, actor: Actor, nameHint: string | null): Promise<ModelRecord> {
    if (nameHint !== null && await this.store.get(nameHint) !== null) throw alreadyRegistered(nameHint);
    return this.withStaging(async (staging) => {
      const tree = await extractArchive(archive, format, await freshFolder(staging, 'upload'), this.options.archiveLimits);
      const name = nameHint ?? tree.topLevelName ?? await configName(tree.root);
      if (name === null) throw new TriageError('INVALID_ARGUMENT', 'the archive does not say the model\'s name: put its files in one folder named after the model, set `name` in config.pbtxt, or pass ?name=');
      if (await this.store.get(name) !== null) throw alreadyRegistered(name);
      const validation = await validateModelDirectory(tree.root, { expectedName: name });
      if (validation.problems.length > 0) throw invalidModel(name, validation.problems);
      const config = validation.config as Record<string, unknown>;
      await this.writer.installModel(name, tree.root);
      const record = await this.newRecord(name, config, validation.versions, actor);
      await this.store.put(null, record).catch(async (error: unknown) => {
        await this.writer.removeModel(name);
        throw error;
      });
      await this.audit.record({ actor, action: 'model.create', target: `model/${name}`, before: null, after: modelSummary(record) });
      return record;
    });
  }

  /** Registers a folder already in the repository (found at start), validated like an upload, unmanaged (deployment null). */
  async adopt(name: string): Promise<ModelRecord> {
    const validation = await validateModelDirectory(this.writer.modelPath(name), { expectedName: name });
    if (validation.problems.length > 0) throw invalidModel(name, validation.problems);
    const record = await this.newRecord(name, validation.config as Record<string, unknown>, validation.versions, REPOSITORY_ACTOR);
    await this.store.put(null, record);
    await this.audit.record({ actor: REPOSITORY_ACTOR, action: 'model.adopt', target: `model/${name}`, before: null, after: modelSummary(record) });
    return record;
  }

  /**
   * Adds a version from an archive of one version folder. The version number is the
   * archive's single top-level folder name when it is numeric, else `versionHint`, else
   * one more than the newest version.
   */
  async addVersion(name: string, archive: Readable, format: ArchiveFormat, actor: Actor, versionHint: string | null): Promise<ModelRecord> {
    const previous = await this.get(name);
    return this.withStaging(async (staging) => {
      const tree = await extractArchive(archive, format, await freshFolder(staging, 'upload'), this.options.archiveLimits);
      const version = versionHint ?? (tree.topLevelName !== null && /^[0-9]+$/.test(tree.topLevelName) ? tree.topLevelName : nextVersion(previous));
      if (!/^[1-9][0-9]{0,18}$/.test(version)) throw new TriageError('INVALID_ARGUMENT', `version '${version}' must be a positive integer without leading zeros`);
      if (previous.versions.some((each) => each.version === version)) throw new TriageError('ALREADY_EXISTS', `model '${name}' already has a version ${version}`);
      // Validate the version as Triton will see it: beside the model's current config.
      const candidate = await freshFolder(staging, name);
      await writeFile(join(candidate, 'config.pbtxt'), printModelConfigText(modelConfigFromJson(previous.config)));
      const versionFolder = join(candidate, version);
      await mkdir(versionFolder);
      await moveChildren(tree.root, versionFolder);
      const validation = await validateModelDirectory(candidate, { expectedName: name, versions: [version] });
      if (validation.problems.length > 0) throw invalidModel(name, validation.problems);
      await this.writer.installVersion(name, version, versionFolder);
      const now = this.now().toISOString();
      const added = await this.versionRecord(name, version, now);
      const next: ModelRecord = { ...previous, versions: [...previous.versions, added].sort(versionOrder), updated_at: now, revision: previous.revision + 1 };
      await this.store.put(previous, next).catch(async (error: unknown) => {
        await this.writer.removeVersion(name, version);
        throw error;
      });
      await this.audit.record({ actor, action: 'model.version.create', target: `model/${name}`, before: modelSummary(previous), after: modelSummary(next) });
      return next;
    });
  }

  async deleteVersion(name: string, version: string, actor: Actor): Promise<ModelRecord> {
    const previous = await this.get(name);
    if (!previous.versions.some((each) => each.version === version)) throw new TriageError('NOT_FOUND', `model '${name}' has no version ${version}`);
    if (previous.versions.length === 1) throw new TriageError('CONFLICT', `version ${version} is the only version of '${name}': delete the model instead (DELETE /v1/models/${name})`);
    const next: ModelRecord = { ...previous, versions: previous.versions.filter((each) => each.version !== version), updated_at: this.now().toISOString(), revision: previous.revision + 1 };
    await this.store.put(previous, next);
    await this.writer.removeVersion(name, version);
    await this.audit.record({ actor, action: 'model.version.delete', target: `model/${name}`, before: modelSummary(previous), after: modelSummary(next) });
    return next;
  }

  /** Replaces the model's config (ModelConfig JSON with proto field names), validated against every version first. */
  async putConfig(name: string, json: unknown, actor: Actor): Promise<ModelRecord> {
    const previous = await this.get(name);
    let config: Record<string, unknown>;
    try {
      config = modelConfigFromJson(json);
    } catch (error) {
      throw new TriageError('INVALID_ARGUMENT', `body is not a ModelConfig: ${(error as Error).message}`);
    }
    const text = printModelConfigText(config);
    await this.withStaging(async (staging) => {
      // The candidate folder: the new config beside links to the current version folders (nothing copied).
      const candidate = await freshFolder(staging, name);
      await writeFile(join(candidate, 'config.pbtxt'), text);
      for (const version of previous.versions) await symlink(this.writer.versionPath(name, version.version), join(candidate, version.version));
      const validation = await validateModelDirectory(candidate, { expectedName: name });
      if (validation.problems.length > 0) throw invalidModel(name, validation.problems);
    });
    const next: ModelRecord = {
      ...previous,
      platform: stringField(config, 'platform'),
      backend: stringField(config, 'backend'),
      max_batch_size: Number(config['max_batch_size'] ?? 0),
      config: modelConfigToJson(config),
      updated_at: this.now().toISOString(),
      revision: previous.revision + 1,
    };
    await this.store.put(previous, next);
    await this.writer.writeConfig(name, text);
    await this.audit.record({ actor, action: 'model.config.update', target: `model/${name}`, before: previous.config, after: next.config });
    return next;
  }

  async deploy(name: string, body: unknown, actor: Actor): Promise<ModelRecord> {
    const previous = await this.get(name);
    const deployment = readDeploymentRequest(body, this.now());
    const next: ModelRecord = { ...previous, deployment, updated_at: deployment.updated_at, revision: previous.revision + 1 };
    await this.store.put(previous, next);
    await this.audit.record({ actor, action: 'model.deploy', target: `model/${name}`, before: previous.deployment, after: deployment });
    return next;
  }

  async undeploy(name: string, actor: Actor): Promise<ModelRecord> {
    const previous = await this.get(name);
    const deployment = undeployment(this.now());
    const next: ModelRecord = { ...previous, deployment, updated_at: deployment.updated_at, revision: previous.revision + 1 };
    await this.store.put(previous, next);
    await this.audit.record({ actor, action: 'model.undeploy', target: `model/${name}`, before: previous.deployment, after: deployment });
    return next;
  }

  /**
   * Deletes a model: undeploys it first and waits (up to undeployTimeoutMs) until no
   * instance holds it, then removes the record and the folder.
   */
  async delete(name: string, actor: Actor): Promise<ModelRecord> {
    let record = await this.get(name);
    if (record.deployment !== null && record.deployment.replicas !== 0) record = await this.undeploy(name, actor);
    const deadline = Date.now() + this.options.undeployTimeoutMs;
    for (;;) {
      const loaded = (await this.store.placement(name)).map((each) => each.instance);
      if (loaded.length === 0) break;
      if (Date.now() >= deadline) {
        throw new TriageError('CONFLICT', `model '${name}' is still loaded on ${loaded.join(', ')} after ${this.options.undeployTimeoutMs} ms: it stays undeployed; retry the delete once the instances have unloaded it`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.store.delete(record);
    await this.writer.removeModel(name);
    await this.audit.record({ actor, action: 'model.delete', target: `model/${name}`, before: modelSummary(record), after: null });
    return record;
  }

  private async newRecord(name: string, config: Record<string, unknown>, versions: readonly string[], owner: Actor): Promise<ModelRecord> {
    const now = this.now().toISOString();
    return {
      name,
      platform: stringField(config, 'platform'),
      backend: stringField(config, 'backend'),
      max_batch_size: Number(config['max_batch_size'] ?? 0),
      config: modelConfigToJson(config),
      versions: await this.versionRecords(name, versions, now),
      owner,
      footprint_bytes: null,
      deployment: null,
      created_at: now,
      updated_at: now,
      revision: 1,
    };
  }

  private async versionRecords(name: string, versions: readonly string[], now: string): Promise<ModelVersionRecord[]> {
    const records = await Promise.all(versions.map((version) => this.versionRecord(name, version, now)));
    return records.sort(versionOrder);
  }

  private async versionRecord(name: string, version: string, now: string): Promise<ModelVersionRecord> {
    const digest = await digestFolder(this.writer.versionPath(name, version));
    return { version, size_bytes: digest.sizeBytes, sha256: digest.sha256, files: digest.files, created_at: now };
  }

  private async withStaging<T>(work: (staging: string) => Promise<T>): Promise<T> {
    const staging = await this.writer.newStagingDirectory();
    try {
      return await work(staging);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
}

/** The actor of changes triage makes on its own (adopting folders found in the repository). */
const REPOSITORY_ACTOR: Actor = { tenant_id: 'admin', key_id: 'repository' };

function alreadyRegistered(name: string): TriageError {
  return new TriageError('ALREADY_EXISTS', `model '${name}' is already registered: add a version with POST /v1/models/${name}/versions`);
}

async function freshFolder(parent: string, name: string): Promise<string> {
  const path = join(parent, name);
  await mkdir(path);
  return path;
}

async function moveChildren(from: string, to: string): Promise<void> {
  for (const entry of await readdir(from)) await rename(join(from, entry), join(to, entry));
}

/** The `name` set in the folder's config.pbtxt, if it reads and sets one (validation reports any problem later). */
async function configName(folder: string): Promise<string | null> {
  try {
    const name = parseModelConfigText(await readFile(join(folder, 'config.pbtxt'), 'utf8'))['name'];
    return typeof name === 'string' && name !== '' ? name : null;
  } catch {
    return null;
  }
}

function stringField(config: Readonly<Record<string, unknown>>, field: string): string {
  const value = config[field];
  return typeof value === 'string' ? value : '';
}

function nextVersion(record: ModelRecord): string {
  const newest = record.versions.reduce((max, each) => Math.max(max, Number(each.version)), 0);
  return String(newest + 1);
}
