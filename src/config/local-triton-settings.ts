import { LOG_LEVELS, type LogLevel } from '../observability/logger';
import { booleanSetting, byteSizeSetting, choiceSetting, listSetting, portSetting, stringSetting } from './setting';

/**
 * Settings of `triage local-triton`. Flag names are tritonserver's own, so a command
 * line written for Triton works here.
 */
export const LOCAL_TRITON_SETTINGS = {
  modelRepository: stringSetting('model-repository', 'TRIAGE_MODEL_REPOSITORY', './model-repository',
    'Model repository directory (Triton layout: <model>/config.pbtxt, <model>/<version>/...).'),
  grpcAddress: stringSetting('grpc-address', 'TRIAGE_LOCAL_TRITON_GRPC_ADDRESS', '0.0.0.0', 'Address the gRPC server binds.'),
  grpcPort: portSetting('grpc-port', 'TRIAGE_LOCAL_TRITON_GRPC_PORT', 9001, 'gRPC port of inference.GRPCInferenceService and grpc.health.v1.Health.'),
  metricsPort: portSetting('metrics-port', 'TRIAGE_LOCAL_TRITON_METRICS_PORT', 9002, 'Port of the Prometheus /metrics endpoint (-1 = disabled).', true),
  modelControlMode: choiceSetting('model-control-mode', 'TRIAGE_LOCAL_TRITON_MODEL_CONTROL_MODE', ['none', 'explicit'] as const, 'none',
    'none: load every model at start, no load/unload API. explicit: load only --load-model models; RepositoryModelLoad/Unload enabled.'),
  loadModels: listSetting('load-model', 'TRIAGE_LOCAL_TRITON_LOAD_MODELS',
    'Model to load at start in explicit mode (repeatable; * = all). Env: comma-separated.'),
  strictReadiness: booleanSetting('strict-readiness', 'TRIAGE_LOCAL_TRITON_STRICT_READINESS', true,
    'true: ServerReady only when every model asked for is READY. false: ready once started.'),
  maxMessageBytes: byteSizeSetting('max-message-bytes', 'TRIAGE_MAX_MESSAGE_BYTES', 256 * 1024 * 1024,
    'Largest gRPC message received or sent.'),
  logLevel: choiceSetting<LogLevel>('log-level', 'TRIAGE_LOG_LEVEL', LOG_LEVELS, 'info', 'Log level (JSON logs on stdout).'),
};

export type LocalTritonSettingsTable = typeof LOCAL_TRITON_SETTINGS;
