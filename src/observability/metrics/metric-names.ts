/**
 * The name of every metric triage registers on /metrics (besides the Node process metrics,
 * PROCESS_METRIC_PREFIX + prom-client's names). The code creates its metrics from these
 * constants, and test/unit/deploy-observability.test.ts checks that the alert rules and
 * the Grafana dashboard under deploy/ only name metrics that exist.
 */
export const METRIC = {
  inferenceRequests: 'triage_inference_requests_total',
  inferenceDuration: 'triage_inference_duration_seconds',
  upstreamDuration: 'triage_upstream_duration_seconds',
  inferenceReceivedBytes: 'triage_inference_received_bytes_total',
  inferenceSentBytes: 'triage_inference_sent_bytes_total',
  quotaRejections: 'triage_quota_rejections_total',
  quotaAdmissions: 'triage_quota_admissions_total',
  quotaScriptCalls: 'triage_quota_script_calls_total',
  instanceUp: 'triage_instance_up',
  instanceReady: 'triage_instance_ready',
  instanceInFlight: 'triage_instance_in_flight',
  modelState: 'triage_model_state',
  jobs: 'triage_jobs',
  jobRows: 'triage_job_rows_total',
  jobQueueDepth: 'triage_job_queue_depth',
  jobQueueOldestAge: 'triage_job_queue_oldest_age_seconds',
  redisRoundTrip: 'triage_redis_round_trip_seconds',
  redisUp: 'triage_redis_up',
  tritonScrapeUp: 'triage_triton_scrape_up',
  tritonGpuUtilization: 'triage_triton_gpu_utilization_ratio',
  tritonGpuMemoryUsed: 'triage_triton_gpu_memory_used_bytes',
  tritonGpuMemoryTotal: 'triage_triton_gpu_memory_total_bytes',
  tritonInferenceCount: 'triage_triton_inference_count_total',
  tritonQueueDuration: 'triage_triton_queue_duration_seconds_total',
  tritonCpuMemoryUsed: 'triage_triton_cpu_memory_used_bytes',
} as const;

/** Every name of METRIC. */
export const METRIC_NAMES: readonly string[] = Object.values(METRIC);

/** The histograms of METRIC: their series are `<name>_bucket`, `<name>_sum` and `<name>_count`. */
export const HISTOGRAM_NAMES: readonly string[] = [METRIC.inferenceDuration, METRIC.upstreamDuration, METRIC.redisRoundTrip];

/** Prefix of the Node process metrics (prom-client's default metrics: triage_process_cpu_seconds_total, ...). */
export const PROCESS_METRIC_PREFIX = 'triage_';
