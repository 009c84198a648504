import { LOG_LEVELS, type LogLevel } from '../observability/logger';
import { byteSizeSetting, choiceSetting, customSetting, durationSetting, portSetting, stringSetting } from './setting';
import { parseTritonTargets, type TritonTargets } from './triton-targets';

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
  logLevel: choiceSetting<LogLevel>('log-level', 'TRIAGE_LOG_LEVEL', LOG_LEVELS, 'info', 'Log level (JSON logs on stdout).'),
};
