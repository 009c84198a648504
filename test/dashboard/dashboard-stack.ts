import type { LocalTritonFixture } from '../support/local-triton-fixture';
import { createTestTenant, type TestTenant } from '../support/tenant-setup';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import type { TriageFixture } from '../support/triage-fixture';
import { startTriageOnLocalTriton } from '../support/triage-on-local-triton';

// A JSON answer under test: `any` so that assertions can reach into it (the assertions are the type check).
export type Json = Record<string, any>;

export interface DashboardStack {
  readonly triage: TriageFixture;
  readonly local: LocalTritonFixture;
  /** http://127.0.0.1:<triage's HTTP port>: the dashboard is at `${base}/`. */
  readonly base: string;
  readonly adminKey: string;
  /** One call of the HTTP API; throws unless the status is `expect`. */
  api(method: string, path: string, key: string, body?: unknown, expect?: number): Promise<Json>;
  /** A new tenant with one key of these scopes (and quotas). */
  tenant(scopes: readonly string[], quotas?: unknown): Promise<TestTenant>;
  stop(): Promise<void>;
}

/** Models in the repository: all registered (unmanaged) at start; the first two loaded on the instance, the last left for a test to deploy. */
export const LOADED_MODELS = ['simple', 'breast_cancer_mlp'] as const;
export const UNLOADED_MODEL = 'identity_fp32';

/**
 * The running stack the browser tests drive: one local-triton in explicit mode and one
 * triage (its controller ticking fast, its job worker on) sharing one model repository,
 * on free ports, with the shared test Redis.
 */
export async function startDashboardStack(): Promise<DashboardStack> {
  const started = await startTriageOnLocalTriton([...LOADED_MODELS, UNLOADED_MODEL], { controllerLeaseTtlMs: 1000, controllerTickMs: 200, jobsChunkRows: 25 }, {
    local: { modelControlMode: 'explicit', loadModels: [...LOADED_MODELS], strictReadiness: false, metricsPort: -1 },
    sharedRepository: true,
  });
  const { triage, local, base } = started;
  return {
    triage,
    local,
    base,
    adminKey: TEST_ADMIN_KEY,
    async api(method, path, key, body, expect = 200) {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      if (response.status !== expect) throw new Error(`${method} ${path}: expected ${expect}, got ${response.status}: ${text}`);
      return text === '' ? {} : JSON.parse(text) as Json;
    },
    tenant: (scopes, quotas) => createTestTenant(triage.triage.tenancy.service, { scopes, ...(quotas === undefined ? {} : { quotas }) }),
    stop: () => started.stop(),
  };
}

/** A row of `simple` (INPUT0, INPUT1: 16 INT32 each). */
export function simpleRow(customId: string, seed: number): Json {
  const range = (from: number): number[] => Array.from({ length: 16 }, (_, index) => from + index);
  return { custom_id: customId, inputs: { INPUT0: range(seed), INPUT1: range(1000 + seed) } };
}
