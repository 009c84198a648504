import type { AuditLog } from '../observability/audit-log';
import type { RedisClient } from '../redis/redis-client';
import type { RedisKeys } from '../redis/redis-keys';
import type { TenancyService } from '../tenancy/tenancy-service';
import type { InstancePool } from '../triton/instance-pool';
import { DispatchScripts } from './execution/dispatch-scripts';
import { JobIdempotency } from './job-idempotency';
import { JobIntake } from './job-intake';
import { JobQuotaGate } from './job-quota-gate';
import { JobService } from './job-service';
import { JobStore } from './job-store';
import { PayloadCipher, type PayloadKey } from './payload-cipher';
import { PoolModelSignatures } from './pool-model-signatures';

export interface JobsOptions {
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  /** The keys rows and results are encrypted with (jobPayloadKeys: --jobs-keys, or the generated one). */
  readonly payloadKeys: readonly PayloadKey[];
  readonly pool: Pick<InstancePool, 'candidates' | 'refreshModels' | 'knows' | 'list' | 'probeNow'>;
  readonly tenants: Pick<TenancyService, 'listTenants'>;
  /** --jobs-chunk-rows (0: automatic). */
  readonly chunkRows: number;
  /** --jobs-max-rows. */
  readonly maxRows: number;
  /** --jobs-max-body. */
  readonly maxBodyBytes: number;
  /** The admin audit log: job creations and cancellations. */
  readonly audit: Pick<AuditLog, 'record'>;
}

/** Batch jobs, the client's side: the store (shared with the workers) and the service behind /v1/jobs. */
export interface Jobs {
  readonly store: JobStore;
  readonly service: JobService;
  /** Largest POST /v1/jobs body, after decompression. */
  readonly maxBodyBytes: number;
}

/** Wires the job store (rows and results encrypted with the payload keys) and the service. */
export function createJobs(options: JobsOptions): Jobs {
  const { redis, keys } = options;
  const store = new JobStore(redis, keys, new PayloadCipher([...options.payloadKeys]));
  const gate = new JobQuotaGate(redis, keys, options.maxRows);
  const idempotency = new JobIdempotency(redis, keys);
  const dispatch = new DispatchScripts(redis, keys);
  const intake = new JobIntake({
    store,
    redis,
    signatures: new PoolModelSignatures(options.pool),
    gate,
    idempotency,
    enqueue: (tenantId, jobId, chunks, expiresAtMs) => dispatch.enqueueJob(tenantId, jobId, chunks, expiresAtMs),
    chunkRows: options.chunkRows,
  });
  const service = new JobService({ store, redis, intake, gate, idempotency, tenants: options.tenants, audit: options.audit });
  return { store, service, maxBodyBytes: options.maxBodyBytes };
}
