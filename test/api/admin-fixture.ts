import assert from 'node:assert/strict';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { startTriageOnLocalTriton } from '../support/triage-on-local-triton';
import type { TriageFixture } from '../support/triage-fixture';

// A JSON answer under test: `any` so that assertions can reach into it (the assertions are the type check).
export type JsonDocument = Record<string, any>;

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The parsed body, or null when it is not JSON. */
  readonly body: JsonDocument | null;
}

export interface AdminFixture {
  readonly triage: TriageFixture;
  /** http://127.0.0.1:<triage's HTTP port> */
  readonly base: string;
  /** One call of the admin API; `key` null sends no key; a string body is sent as is. */
  call(method: string, path: string, key?: string | null, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** Creates a tenant (as the bootstrap admin) and returns its id. */
  createTenant(name: string): Promise<string>;
  /** Creates a key for a tenant and returns the secret key. */
  createKey(tenantId: string, scopes: readonly string[]): Promise<{ key: string; keyId: string }>;
  /** Every Redis key under this triage's prefix with its value: compared before and after to prove nothing changed. */
  snapshot(): Promise<Map<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * triage in-process (shared test Redis, own prefix, TEST_ADMIN_KEY) in front of one
 * local-triton serving identity_fp32, for the admin API tests.
 */
export async function startAdminFixture(): Promise<AdminFixture> {
  const started = await startTriageOnLocalTriton(['identity_fp32']);
  const running = started.triage;
  const base = started.base;
  const call = adminApiCaller(base);
  return {
    triage: running,
    base,
    call,
    async createTenant(name) {
      const answer = await call('POST', '/v1/tenants', TEST_ADMIN_KEY, { name });
      assert.equal(answer.status, 201, answer.text);
      return answer.body?.['id'] as string;
    },
    async createKey(tenantId, scopes) {
      const answer = await call('POST', `/v1/tenants/${tenantId}/keys`, TEST_ADMIN_KEY, { scopes });
      assert.equal(answer.status, 201, answer.text);
      return { key: answer.body?.['key'] as string, keyId: answer.body?.['key_id'] as string };
    },
    async snapshot() {
      const redis = running.triage.tenancy.redis;
      const keys = (await redis.keys(`${running.triage.tenancy.keys.prefix}*`)).sort();
      const state = new Map<string, unknown>();
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'hash') state.set(key, await redis.hgetall(key));
        else if (type === 'set') state.set(key, (await redis.smembers(key)).sort());
        else if (type === 'string') state.set(key, await redis.get(key));
        else state.set(key, type);
      }
      return state;
    },
    stop: () => started.stop(),
  };
}

/** One call of the admin API at `base` (http://host:port); `key` null sends no key; a string or Buffer body is sent as is, anything else as JSON. */
export function adminApiCaller(base: string): AdminFixture['call'] {
  return async (method: string, path: string, key: string | null = TEST_ADMIN_KEY, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: JsonDocument | null = null;
    try {
      parsed = JSON.parse(text) as JsonDocument;
    } catch {
      parsed = null;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  };
}
