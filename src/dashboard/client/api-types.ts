/**
 * The shapes of the /v1 answers the dashboard reads (snake_case, as the API sends them).
 * Only the fields the views use; the API may send more.
 */

export type Scope = 'infer' | 'read' | 'jobs' | 'admin';

export interface Whoami {
  readonly tenant_id: string;
  readonly key_id: string;
  readonly scopes: readonly string[];
}

export interface TrafficPoint {
  readonly at: string;
  readonly requests: number;
  readonly errors: number;
  readonly quota_rejections: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
}

export interface Overview {
  readonly scope: 'all' | 'tenant';
  readonly tenant_id: string | null;
  readonly step_seconds: number;
  readonly window_seconds: number;
  readonly series: readonly TrafficPoint[];
  readonly totals: {
    readonly requests_per_second: number;
    readonly error_rate: number;
    readonly p50_ms: number | null;
    readonly p99_ms: number | null;
    readonly quota_rejections: number;
    readonly requests: number;
  };
}

export interface GpuFigures {
  readonly index: string | number;
  readonly uuid: string;
  readonly utilization: number | null;
  readonly memory_used_bytes: number | null;
  readonly memory_total_bytes: number | null;
}

export interface InstanceView {
  readonly address: string;
  readonly health: string;
  readonly ready: boolean;
  readonly in_flight: number;
  readonly last_error?: string | null;
  readonly models: readonly { readonly name: string; readonly versions: readonly string[] }[];
  readonly gpu: readonly GpuFigures[];
  readonly cpu_memory_used_bytes: number | null;
}

export type PlacementState = 'LOADING' | 'READY' | 'FAILED' | 'UNLOADING';

export interface Placement {
  readonly instance: string;
  readonly state: PlacementState;
  readonly reason: string | null;
  readonly versions: readonly string[];
  readonly updated_at: string;
}

export interface ModelView {
  readonly name: string;
  readonly platform: string;
  readonly backend: string;
  readonly max_batch_size: number;
  readonly versions: readonly { readonly version: string; readonly size_bytes: number; readonly created_at: string }[];
  readonly deployment: { readonly replicas: number | 'all'; readonly updated_at: string } | null;
  readonly state: readonly Placement[];
  readonly unplaced: string | null;
  readonly updated_at: string;
}

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface Quotas {
  readonly requests_per_second?: number | null;
  readonly daily_requests?: number | null;
  readonly monthly_requests?: number | null;
  readonly daily_inferences?: number | null;
  readonly monthly_inferences?: number | null;
  readonly max_concurrent?: number | null;
  readonly allowed_models?: readonly string[] | null;
}

export interface UsageRow {
  readonly tenant_id: string;
  readonly model: string;
  readonly day: string;
  readonly requests: number;
  readonly inferences: number;
  readonly errors: number;
}

export interface Usage {
  readonly from: string;
  readonly to: string;
  readonly rows: readonly UsageRow[];
}

export type JobStatus = 'validating' | 'queued' | 'in_progress' | 'finalizing' | 'completed' | 'failed' | 'cancelling' | 'cancelled' | 'expired';

export interface Job {
  readonly id: string;
  readonly tenant_id: string;
  readonly model: string;
  readonly status: JobStatus;
  readonly created_at: string;
  readonly request_counts: { readonly total: number; readonly completed: number; readonly failed: number };
  readonly progress?: {
    readonly rows_done: number;
    readonly rows_total: number;
    readonly percent: number;
    readonly rows_per_second: number | null;
    readonly eta_seconds: number | null;
  };
  readonly error: string | null;
}

export interface AdminAuditEntry {
  readonly id: string;
  readonly at: string;
  readonly kind: 'admin';
  readonly actor: { readonly tenant_id: string; readonly key_id: string };
  readonly action: string;
  readonly target: string;
}

export interface InferenceAuditEntry {
  readonly id: string;
  readonly at: string;
  readonly kind: 'inference';
  readonly tenant_id: string | null;
  readonly model: string;
  readonly version: string;
  readonly request_id: string;
  readonly code: string;
  readonly failed: boolean;
  readonly refused_by: string | null;
  readonly latency_ms: number;
  readonly bytes_in: number;
  readonly bytes_out: number;
}

export type AuditEntry = AdminAuditEntry | InferenceAuditEntry;

export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  readonly next_before: string | null;
}
