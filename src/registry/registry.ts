import { readdir } from 'node:fs/promises';
import type { RedisClient } from '../redis/redis-client';
import { isTriageError } from '../errors/triage-error';
import type { AuditLog } from '../observability/audit-log';
import type { Logger } from '../observability/logger';
import type { RedisKeys } from '../redis/redis-keys';
import type { ArchiveLimits } from '../repository/archive/extract-archive';
import { RepositoryWriter } from '../repository/repository-writer';
import { RegistryService } from './registry-service';
import { RegistryStore } from './registry-store';

export interface RegistryOptions {
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  /** The model repository (Triton layout) the registry writes. */
  readonly repository: string;
  /** Staging root, on the repository's filesystem. */
  readonly stagingDir: string;
  readonly archiveLimits: ArchiveLimits;
  /** The process's admin audit log (Tenancy.audit), shared with tenancy and jobs. */
  readonly audit: AuditLog;
  readonly undeployTimeoutMs: number;
}

/** The model registry wired to one Redis and one repository folder. */
export interface Registry {
  readonly service: RegistryService;
  readonly store: RegistryStore;
  readonly writer: RepositoryWriter;
  readonly audit: AuditLog;
}

/**
 * Wires the registry and registers (adopts) every valid model folder already in the
 * repository that the registry does not know, unmanaged (deployment null): triage can
 * be put in front of an existing repository without touching what Triton already runs.
 */
export async function startRegistry(options: RegistryOptions, logger: Logger): Promise<Registry> {
  const store = new RegistryStore(options.redis, options.keys);
  const writer = new RepositoryWriter(options.repository, options.stagingDir);
  const { audit } = options;
  const service = new RegistryService(store, writer, audit, { archiveLimits: options.archiveLimits, undeployTimeoutMs: options.undeployTimeoutMs });
  await adoptRepositoryFolders(service, options.repository, logger.child({ component: 'registry' }));
  return { service, store, writer, audit };
}

async function adoptRepositoryFolders(service: RegistryService, repository: string, logger: Logger): Promise<void> {
  const entries = await readdir(repository, { withFileTypes: true }).catch(() => []);
  const known = new Set((await service.list()).map((record) => record.name));
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || known.has(entry.name)) continue;
    try {
      await service.adopt(entry.name);
      logger.info({ model: entry.name }, 'registered a model found in the repository (unmanaged until deployed)');
    } catch (error) {
      if (isTriageError(error) && error.code === 'ALREADY_EXISTS') continue;
      const problems = isTriageError(error) ? error.details?.['problems'] : undefined;
      logger.warn({ model: entry.name, reason: (error as Error).message, problems }, 'a folder of the repository is not a valid model: not registered');
    }
  }
}
