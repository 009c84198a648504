import { LOG_LEVELS, type LogLevel } from '../observability/logger';
import { byteSizeSetting, choiceSetting, customSetting, durationSetting, integerSetting, listSetting, portSetting, stringSetting } from './setting';
import { parseInstanceLabels, parseInstanceMemory, type DeliveryMode, type InstanceLabels, type InstanceMemory } from '../controller/instance-profiles';
import { parseTritonTargets, type TritonTargets } from './triton-targets';
import { TriageError } from '../errors/triage-error';
import type { RedisDownPolicy } from '../tenancy/quota-admission';

function parseRedisUrl(raw: string, source: string): string {
  const text = raw.trim();
  if (text !== '' && !/^rediss?:\/\/[^\s]+$/.test(text)) {
    throw new TriageError('CONFIG_INVALID', `${source} must be redis://[:password@]host:port[/db] (or rediss:// for TLS)`);
  }
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

/** Settings of `triage serve`. */
export const SERVE_SETTINGS = {
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
    'Redis for tenants, keys, quotas and usage: redis://[:password@]host:port[/db]. Empty: start an embedded redis-server with its data in --data-dir.',
    parseRedisUrl),
  redisPrefix: stringSetting('redis-prefix', 'TRIAGE_REDIS_PREFIX', 'triage:', 'Prefix of every Redis key triage writes (several deployments can share one Redis).'),
  dataDir: stringSetting('data-dir', 'TRIAGE_DATA_DIR', './.triage', 'Folder for the embedded redis-server\'s data (append-only file).'),
  adminKey: customSetting<string>('admin-key', 'TRIAGE_ADMIN_KEY', '', '(generated, printed once)',
    'Bootstrap admin key (at least 32 characters): every scope, inference included. Empty: one is generated at start and printed once.',
    parseAdminKey),
  leaseTtlMs: durationSetting('lease-ttl', 'TRIAGE_LEASE_TTL_MS', 30_000, 'Expiry of a concurrency lease; leases of running calls are renewed, a crashed proxy\'s expire.', 300),
  quotaRedisDown: customSetting<RedisDownPolicy>('quota-redis-down', 'TRIAGE_QUOTA_REDIS_DOWN', { rate: 'open', concurrency: 'open', budget: 'closed' }, 'rate=open,concurrency=open,budget=closed',
    'What each kind of limit does while Redis is unreachable: open (admit) or closed (refuse with UNAVAILABLE).', parseRedisDownPolicy),
  keyCacheTtlMs: durationSetting('key-cache-ttl', 'TRIAGE_KEY_CACHE_TTL_MS', 30_000, 'A cached API key is re-read after this long even without an invalidation message.', 100),
  usageFlushMs: durationSetting('usage-flush', 'TRIAGE_USAGE_FLUSH_MS', 1000, 'How often usage counts are added to Redis.', 50),
  stagingDir: customSetting<string>('staging-dir', 'TRIAGE_STAGING_DIR', '', '(--data-dir/staging)',
    'Where uploads are unpacked and checked before one rename moves them into --model-repository: must be on the same filesystem.', (raw) => raw.trim()),
  auditMaxEntries: integerSetting('audit-max-entries', 'TRIAGE_AUDIT_MAX_ENTRIES', 1_000_000, 'The audit stream keeps about this many newest events.', 1000, 1_000_000_000),
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
  instanceMemory: customSetting<InstanceMemory>('instance-memory', 'TRIAGE_INSTANCE_MEMORY', new Map(), '(unlimited)',
    'Memory budget of each instance for placement: a size for every instance (16GiB), or ADDRESS=SIZE,... with *=SIZE for the others.', parseInstanceMemory),
  logLevel: choiceSetting<LogLevel>('log-level', 'TRIAGE_LOG_LEVEL', LOG_LEVELS, 'info', 'Log level (JSON logs on stdout).'),
};
