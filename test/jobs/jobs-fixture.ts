import type { PayloadKey } from '../../src/jobs/payload-cipher';
import type { ServeSettings } from '../../src/main';
import type { LocalTritonFixture } from '../support/local-triton-fixture';
import { createTestTenant, type TestTenant } from '../support/tenant-setup';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import type { TriageFixture } from '../support/triage-fixture';
import { startTriageOnLocalTriton } from '../support/triage-on-local-triton';

// A JSON answer under test: `any` so that assertions can reach into it (the assertions are the type check).
export type Json = Record<string, any>;

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body, or null when it is not JSON. */
  readonly body: Json | null;
}

/** The job encryption key of the tests (triage refuses to start on an external Redis without one). */
export const TEST_JOB_KEYS: readonly PayloadKey[] = [{ id: 'jobs-test', key: Buffer.alloc(32, 11) }];

export interface JobsFixture {
  readonly triage: TriageFixture;
  readonly local: LocalTritonFixture;
  /** http://127.0.0.1:<triage's HTTP port> */
  readonly base: string;
  /** One HTTP call; `key` null sends none; a Buffer, string or stream body is sent as is, anything else as JSON. */
  call(method: string, path: string, key: string | null, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** A tenant with a `jobs` key (and the given quotas). */
  tenant(quotas?: unknown, scopes?: readonly string[]): Promise<TestTenant>;
  /** Every Redis key of one job ({j:<id>} tag). */
  jobKeys(jobId: string): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * triage in-process (shared test Redis, own prefix, no job worker: jobs stay queued unless
 * a test commits their chunks) in front of one local-triton serving simple and
 * breast_cancer_mlp.
 */
export async function startJobsFixture(overrides: Partial<ServeSettings> = {}): Promise<JobsFixture> {
  const started = await startTriageOnLocalTriton(['simple', 'breast_cancer_mlp'], { jobsKeys: TEST_JOB_KEYS, jobsConcurrency: 0, ...overrides });
  const running = started.triage;
  const base = started.base;
  return {
    triage: running,
    local: started.local,
    base,
    async call(method, path, key, body, headers = {}) {
      const raw = body === undefined || typeof body === 'string' || Buffer.isBuffer(body) || body instanceof ReadableStream;
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...(raw ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: raw ? body as string : JSON.stringify(body) }),
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
      const text = await response.text();
      let parsed: Json | null = null;
      try {
        parsed = JSON.parse(text) as Json;
      } catch {
        parsed = null;
      }
      return { status: response.status, headers: response.headers, text, body: parsed };
    },
    tenant: (quotas = {}, scopes = ['jobs']) => createTestTenant(running.triage.tenancy.service, { quotas, scopes }),
    async jobKeys(jobId) {
      const { redis, keys } = running.triage.tenancy;
      return (await redis.keys(`${keys.prefix}{j:${jobId}}*`)).sort();
    },
    stop: () => started.stop(),
  };
}

export { TEST_ADMIN_KEY };

const range = (count: number, from = 0): number[] => Array.from({ length: count }, (_, index) => from + index);

/** A row of simple (INPUT0, INPUT1: 16 INT32 each). */
export function simpleRow(customId: string, seed = 0): Record<string, unknown> {
  return { custom_id: customId, inputs: { INPUT0: range(16, seed), INPUT1: range(16, 1000 + seed) } };
}

/** A row of breast_cancer_mlp (30 FP32 measurements). */
export function breastRow(customId: string, seed = 0): Record<string, unknown> {
  return { custom_id: customId, inputs: { features: range(30).map((index) => Math.round(((seed * 31 + index * 7) % 997) * 1.25) / 100) } };
}

/** Rows as a JSONL body. */
export function jsonl(rows: readonly unknown[]): string {
  return `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;
}
