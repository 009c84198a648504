import { LOG_LEVELS, type LogLevel } from '../observability/logger';
import { byteSizeSetting, choiceSetting, customSetting, durationSetting, integerSetting, listSetting, portSetting, stringSetting } from './setting';
import { parseInstanceLabels, parseInstanceMemory, type DeliveryMode, type InstanceLabels, type InstanceMemory } from '../controller/instance-profiles';
import { parseTritonTargets, type TritonTargets } from './triton-targets';
import { TriageError } from '../errors/triage-error';
import type { RedisDownPolicy } from '../tenancy/quota-admission';
import { parsePayloadKeys, type PayloadKey } from '../jobs/payload-cipher';
import { ALL_ROLES, parseRoles, type Roles } from './roles';
import { parseRedisTarget } from '../redis/redis-url';

/** Empty (the embedded redis-server) or a URL of one server, a Cluster or a Sentinel-watched master (redis/redis-url.ts). */
function parseRedisUrl(raw: string, source: string): string {
  const text = raw.trim();
  if (text !== '') parseRedisTarget(text, source);
  return text;
}

function parseAdminKey(raw: string, source: string): string {
  if (raw !== '' && raw.length < 32) throw new TriageError('CONFIG_INVALID', `${source} must be at least 32 characters long (got ${raw.length})`);
  if (raw.startsWith('trg_')) throw new TriageError('CONFIG_INVALID', `${source} must not start with trg_ (the form of the keys triage issues)`);
  return raw;
}

function parseRedisDownPolicy(raw: string, source: string): RedisDownPolicy {
  const policy: Record<string, string> = { rate: 'open', concurrency: 'open', budget: 'closed' };
  for (const part of raw.split(',').map((item) => item.trim()).filter((item) => item !== '')) {
    const match = /^(rate|concurrency|budget)=(open|closed)$/.exec(part);
    if (match === null) throw new TriageError('CONFIG_INVALID', `${source} must be a list of kind=mode with kind rate, concurrency or budget and mode open or closed (e.g. budget=closed,rate=open); '${part}' is not`);
    policy[match[1] as string] = match[2] as string;
  }
  return policy as unknown as RedisDownPolicy;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration from 1 s to 365 days: milliseconds, or a number with ms, s, m, h or d (7d, 12h). */
function parseLongDuration(raw: string, source: string): number {
  const match = /^([0-9]+)\s*(ms|s|m|h|d)?$/.exec(raw.trim());
  const ms = match === null ? NaN : Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? 'ms'] ?? NaN);
  if (!Number.isSafeInteger(ms) || ms < 1000 || ms > 365 * 86_400_000) {
    throw new TriageError('CONFIG_INVALID', `${source} must be a duration from 1s to 365d, in milliseconds or with a unit (e.g. 7d, 12h, 90m), got '${raw}'`);
  }
  return ms;
}

const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, k: 1024, kib: 1024, m: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tib: 1024 ** 4 };

/** A size from 1 KiB to 1 TiB: bytes, or a number with a unit (64MiB, 4GiB). */
function parseLargeSize(raw: string, source: string): number {
  const match = /^([0-9]+)\s*(b|k|kib|m|mib|g|gib|t|tib)?$/i.exec(raw.trim());
  const bytes = match === null ? NaN : Number(match[1]) * (SIZE_UNITS[(match[2] ?? 'b').toLowerCase()] ?? NaN);
  if (!Number.isSafeInteger(bytes) || bytes < 1024 || bytes > 1024 ** 4) {
    throw new TriageError('CONFIG_INVALID', `${source} must be a size from 1KiB to 1TiB, in bytes or with a unit (e.g. 512MiB, 4GiB), got '${raw}'`);
  }
  return bytes;
}

/** Triton's metrics port: 1 to 65535, or -1 for no scraping. */
function parseScrapePort(raw: string, source: string): number {
  const text = raw.trim();
  const port = /^-?[0-9]+$/.test(text) ? Number(text) : NaN;
  if (port !== -1 && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new TriageError('CONFIG_INVALID', `${source} must be a port number from 1 to 65535, or -1 to scrape no Triton metrics, got '${raw}'`);
  }
  return port;
}

/** Settings of `triage serve`. */
export const SERVE_SETTINGS = {
  roles: customSetting<Roles>('roles', 'TRIAGE_ROLES', ALL_ROLES, 'proxy,api,worker,controller',
    'What this process runs: proxy (gRPC port, KServe REST), api (admin API, dashboard), worker (batch jobs), controller (deployments; one active by lease). Every role serves /healthz, /readyz and /metrics.',
    parseRoles),
  listenAddress: stringSetting('listen-address', 'TRIAGE_LISTEN_ADDRESS', '0.0.0.0', 'Address the gRPC and HTTP servers bind.'),
  grpcPort: portSetting('grpc-port', 'TRIAGE_GRPC_PORT', 8001, 'gRPC port: inference.GRPCInferenceService and grpc.health.v1.Health, as Triton\'s.'),
  httpPort: portSetting('http-port', 'TRIAGE_HTTP_PORT', 8000, 'HTTP port: KServe v2 REST (/v2/...), /healthz and /readyz.'),
  tritonUrls: customSetting<TritonTargets>('triton-urls', 'TRIAGE_TRITON_URLS', { kind: 'embedded' }, '(embedded local-triton)',
    'Triton instances: host:port,host:port or dns:NAME:PORT (re-resolved). Empty: start the embedded local-triton on --model-repository.',
    parseTritonTargets),
  modelRepository: stringSetting('model-repository', 'TRIAGE_MODEL_REPOSITORY', './model-repository',
    'Model repository directory (Triton layout), served by the embedded local-triton when no instance is configured.'),
  maxMessageBytes: byteSizeSetting('max-message-bytes', 'TRIAGE_MAX_MESSAGE_BYTES', 256 * 1024 * 1024, 'Largest gRPC message received or sent, and largest REST body.'),
  probeIntervalMs: durationSetting('probe-interval', 'TRIAGE_PROBE_INTERVAL_MS', 1000, 'How often each healthy instance is probed (ServerLive, ServerReady, RepositoryIndex).', 50),
  probeTimeoutMs: durationSetting('probe-timeout', 'TRIAGE_PROBE_TIMEOUT_MS', 1000, 'Deadline of each probe call; an instance that misses it is ejected.', 10),
  dnsRefreshMs: durationSetting('dns-refresh', 'TRIAGE_DNS_REFRESH_MS', 10_000, 'How often a dns: target is re-resolved.', 100),
  sequenceIdleMs: durationSetting('sequence-idle', 'TRIAGE_SEQUENCE_IDLE_MS', 300_000, 'A sequence_id idle this long forgets its instance.', 1000),
  shutdownGraceMs: durationSetting('shutdown-grace', 'TRIAGE_SHUTDOWN_GRACE_MS', 10_000, 'On SIGTERM, how long calls in flight may take to finish before they are cut.', 0),
  redisUrl: customSetting<string>('redis-url', 'TRIAGE_REDIS_URL', '', '(embedded redis-server)',
    'Redis for tenants, keys, quotas, usage, the registry and jobs: redis://[:password@]host:port[/db] (rediss:// for TLS); a Redis Cluster: redis+cluster://[:password@]host:port[,host:port...]; '
      + 'Sentinel: redis+sentinel://[:password@]host:port[,host:port...]/<master name>[/db][?sentinel_password=...]. Empty: start an embedded redis-server with its data in --data-dir.',
    parseRedisUrl),
  redisPrefix: stringSetting('redis-prefix', 'TRIAGE_REDIS_PREFIX', 'triage:', 'Prefix of every Redis key triage writes (several deployments can share one Redis).'),
  dataDir: stringSetting('data-dir', 'TRIAGE_DATA_DIR', './.triage', 'Folder for the embedded redis-server\'s data (append-only file).'),
  adminKey: customSetting<string>('admin-key', 'TRIAGE_ADMIN_KEY', '', '(generated, printed once)',
    'Bootstrap admin key (at least 32 characters): every scope, inference included. Empty: one is generated at start and printed once.',
    parseAdminKey),
  leaseTtlMs: durationSetting('lease-ttl', 'TRIAGE_LEASE_TTL_MS', 30_000, 'Expiry of a concurrency lease; leases of running calls are renewed, a crashed proxy\'s expire.', 300),
  quotaRedisDown: customSetting<RedisDownPolicy>('quota-redis-down', 'TRIAGE_QUOTA_REDIS_DOWN', { rate: 'open', concurrency: 'open', budget: 'closed' }, 'rate=open,concurrency=open,budget=closed',
    'What each kind of limit does while Redis is unreachable: open (admit) or closed (refuse with UNAVAILABLE).', parseRedisDownPolicy),
  quotaCreditMs: durationSetting('quota-credit', 'TRIAGE_QUOTA_CREDIT_MS', 100,
    'While a busy tenant is far from every limit (half a rate\'s bucket, a tenth of a budget, half its free concurrency room), each process takes its admissions from Redis in advance, in credits spent within this long or given back: no round trip per request. 0: every request is admitted by Redis on its own.', 0, 1000),
  keyCacheTtlMs: durationSetting('key-cache-ttl', 'TRIAGE_KEY_CACHE_TTL_MS', 30_000, 'A cached API key is re-read after this long even without an invalidation message.', 100),
  usageFlushMs: durationSetting('usage-flush', 'TRIAGE_USAGE_FLUSH_MS', 1000, 'How often usage counts are added to Redis.', 50),
  stagingDir: customSetting<string>('staging-dir', 'TRIAGE_STAGING_DIR', '', '(--data-dir/staging)',
    'Where uploads are unpacked and checked before one rename moves them into --model-repository: must be on the same filesystem.', (raw) => raw.trim()),
  auditMaxEntries: integerSetting('audit-max-entries', 'TRIAGE_AUDIT_MAX_ENTRIES', 1_000_000, 'The audit stream of admin changes keeps about this many newest events.', 1000, 1_000_000_000),
  auditInferences: choiceSetting<'on' | 'off'>('audit-inferences', 'TRIAGE_AUDIT_INFERENCES', ['on', 'off'], 'on',
    'on: the metadata of every inference call (tenant, model, status, latency, bytes; never a payload) goes to the inference audit stream.'),
  auditInferenceRetentionMs: customSetting<number>('audit-inference-retention', 'TRIAGE_AUDIT_INFERENCE_RETENTION', 7 * 86_400_000, '7d',
    'How long inference audit entries are kept (30d, 12h, 90m, or ms); older ones are trimmed as new ones arrive.', parseLongDuration),
  auditInferenceMaxEntries: integerSetting('audit-inference-max-entries', 'TRIAGE_AUDIT_INFERENCE_MAX_ENTRIES', 5_000_000,
    'The inference audit stream keeps at most about this many newest entries, whatever their age.', 1000, 1_000_000_000),
  undeployTimeoutMs: durationSetting('undeploy-timeout', 'TRIAGE_UNDEPLOY_TIMEOUT_MS', 30_000, 'How long deleting a deployed model waits for the instances to unload it.', 0),
  controllerLeaseTtlMs: durationSetting('controller-lease-ttl', 'TRIAGE_CONTROLLER_LEASE_TTL_MS', 10_000,
    'The deployment controller\'s leader lease: one triage process reconciles deployments; when it dies, another takes over within this long.', 300),
  controllerTickMs: durationSetting('controller-tick', 'TRIAGE_CONTROLLER_TICK_MS', 1000,
    'How often the leading controller compares the deployments with what the instances hold (also at once on every registry change).', 50),
  delivery: choiceSetting<DeliveryMode>('delivery', 'TRIAGE_DELIVERY', ['shared', 'push'], 'shared',
    'How models reach the instances: shared (they read --model-repository themselves) or push (the files travel in the load call).'),
  pushInstances: listSetting('push-instances', 'TRIAGE_PUSH_INSTANCES',
    'Instances (host:port) that get push delivery whatever --delivery says: those that share no storage with triage.'),
  instanceLabels: customSetting<InstanceLabels>('instance-labels', 'TRIAGE_INSTANCE_LABELS', new Map(), '(none)',
    'Labels of instances, matched by a deployment\'s instance_labels: ADDRESS key=value,key=value; ADDRESS key=value.', parseInstanceLabels),
  instanceMemory: customSetting<InstanceMemory>('instance-memory', 'TRIAGE_INSTANCE_MEMORY', new Map(), '(what Triton reports, else unlimited)',
    'Memory budget of each instance for placement: a size for every instance (16GiB), or ADDRESS=SIZE,... with *=SIZE for the others. An instance not named gets the GPU memory it reports (nv_gpu_memory_total_bytes), else *.', parseInstanceMemory),
  onDemandTimeoutMs: durationSetting('on-demand-timeout', 'TRIAGE_ON_DEMAND_TIMEOUT_MS', 30_000,
    'How long an inference for a deployed model that no instance holds waits for the controller to load it (0: no waiting, the call fails at once).', 0),
  evictIdleMinMs: durationSetting('evict-idle-min', 'TRIAGE_EVICT_IDLE_MIN_MS', 30_000,
    'When memory budgets are short, a loaded model gives its room to a more recently used one, least recently used first; never one used within this long.', 0),
  jobsKeys: customSetting<readonly PayloadKey[]>('jobs-keys', 'TRIAGE_JOBS_KEYS', [], '(generated in --data-dir/jobs.key with the embedded Redis)',
    'AES-256 keys encrypting batch job rows and results at rest: id:base64key,... (the first encrypts, all decrypt). Required with --redis-url.',
    parsePayloadKeys),
  jobsRetentionMs: customSetting<number>('jobs-retention', 'TRIAGE_JOBS_RETENTION', 7 * 86_400_000, '7d',
    'How long a batch job\'s record, results and errors are kept after it ends (its input rows are deleted when it ends).', parseLongDuration),
  jobsMaxRows: integerSetting('jobs-max-rows', 'TRIAGE_JOBS_MAX_ROWS', 10_000_000, 'Most rows one batch job may hold, whatever the tenant\'s quotas say.', 1, 1_000_000_000),
  jobsMaxBodyBytes: customSetting<number>('jobs-max-body', 'TRIAGE_JOBS_MAX_BODY', 4 * 1024 ** 3, '4 GiB',
    'Largest body of POST /v1/jobs (after decompression); a larger one is refused with 413.', parseLargeSize),
  jobsChunkRows: integerSetting('jobs-chunk-rows', 'TRIAGE_JOBS_CHUNK_ROWS', 0,
    'Rows per chunk of a batch job (the unit a worker runs and commits). 0: automatic, 4 x the model\'s max_batch_size from 16 to 512 (64 without batching).', 0, 100_000),
  jobsConcurrency: integerSetting('jobs-concurrency', 'TRIAGE_JOBS_CONCURRENCY', 4,
    'Chunks of batch jobs this process executes at once (its worker). 0: no worker here (jobs run in other processes).', 0, 1000),
  jobsGlobalConcurrency: integerSetting('jobs-global-concurrency', 'TRIAGE_JOBS_GLOBAL_CONCURRENCY', 16,
    'Chunks of batch jobs in flight over all workers together; the fair dispatcher keeps at most twice this many queued.', 1, 10_000),
  jobsStallTimeoutMs: durationSetting('jobs-stall-timeout', 'TRIAGE_JOBS_STALL_TIMEOUT_MS', 30_000,
    'A chunk whose worker died (or hung) is taken over by another worker after this long.', 1000),
  metricsKey: customSetting<string>('metrics-key', 'TRIAGE_METRICS_KEY', '', '(none: open)',
    'When set, GET /metrics on the HTTP port requires authorization: Bearer <this key>. Empty: open to scrapers, as Triton\'s metrics port.', (raw) => raw.trim()),
  metricsTenantLabelLimit: integerSetting('metrics-tenant-label-limit', 'TRIAGE_METRICS_TENANT_LABEL_LIMIT', 0,
    'Inference metrics get a tenant label for the first N tenants seen (later ones count as tenant="other"). 0: no tenant label.', 0, 10_000),
  tritonMetricsPort: customSetting<number>('triton-metrics-port', 'TRIAGE_TRITON_METRICS_PORT', 8002, '8002',
    'Port of Triton\'s own Prometheus metrics on each instance\'s host, scraped and re-exported on /metrics (-1: not scraped).', parseScrapePort),
  tritonMetricsIntervalMs: durationSetting('triton-metrics-interval', 'TRIAGE_TRITON_METRICS_INTERVAL_MS', 10_000, 'How often each instance\'s Triton metrics are scraped.', 100),
  logLevel: choiceSetting<LogLevel>('log-level', 'TRIAGE_LOG_LEVEL', LOG_LEVELS, 'info', 'Log level (JSON logs on stdout).'),
};
