import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'mocha';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { startAdminFixture, type AdminFixture } from './admin-fixture';

interface BadInput {
  readonly name: string;
  readonly method: string;
  /** The path, given the id of an existing tenant and of one of its keys. */
  readonly path: (tenant: string, keyId: string) => string;
  /** A string is sent as is (not JSON-encoded). */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly status: number;
  /** The error message must match (it names the field and the rule). */
  readonly message: RegExp;
}

const MiB = 1024 * 1024;
const tenants = (): string => '/v1/tenants';
const tenant = (id: string): string => `/v1/tenants/${id}`;
const keys = (id: string): string => `/v1/tenants/${id}/keys`;
const quotas = (id: string): string => `/v1/tenants/${id}/quotas`;

const CASES: readonly BadInput[] = [
  // Bodies that are not a JSON object.
  { name: 'malformed JSON', method: 'POST', path: tenants, body: '{"name": "x",', status: 400, message: /^body is not valid JSON: / },
  { name: 'an empty body', method: 'POST', path: tenants, body: '', status: 400, message: /^body is empty: send a JSON object$/ },
  { name: 'an array body', method: 'POST', path: tenants, body: [{ name: 'x' }], status: 400, message: /^body must be a JSON object$/ },
  { name: 'a __proto__ member', method: 'POST', path: tenants, body: '{"name": "x", "__proto__": {"admin": true}}', status: 400, message: /"__proto__"/ },
  { name: 'a body over 1 MiB', method: 'POST', path: tenants, body: JSON.stringify({ name: 'x', labels: { big: 'y'.repeat(MiB) } }), status: 413, message: /^body is larger than the admin API's limit of 1048576 bytes$/ },
  { name: 'a gzip body inflating past 1 MiB', method: 'PUT', path: quotas, body: gzipSync(JSON.stringify({ burst: 1, padding: ' '.repeat(2 * MiB) })), headers: { 'content-encoding': 'gzip' }, status: 413, message: /limit of 1048576 bytes/ },
  // Tenants.
  { name: 'a tenant name of the wrong type', method: 'POST', path: tenants, body: { name: 42 }, status: 400, message: /^name must be 1 to 64 characters/ },
  { name: 'a tenant without a name', method: 'POST', path: tenants, body: { labels: {} }, status: 400, message: /^name must be/ },
  { name: 'a tenant name that is too long', method: 'POST', path: tenants, body: { name: 'n'.repeat(65) }, status: 400, message: /^name must be 1 to 64 characters/ },
  { name: 'an unknown tenant field', method: 'POST', path: tenants, body: { name: 'x', colour: 'red' }, status: 400, message: /^colour is not a field here \(known: name, labels\)$/ },
  { name: 'a label that is not a string', method: 'POST', path: tenants, body: { name: 'x', labels: { tier: 1 } }, status: 400, message: /^labels\.tier must be a string/ },
  { name: 'labels that are a list', method: 'POST', path: tenants, body: { name: 'x', labels: ['a'] }, status: 400, message: /^labels must be an object/ },
  { name: 'a taken tenant name', method: 'POST', path: tenants, body: { name: 'existing' }, status: 409, message: /^a tenant named 'existing' already exists$/ },
  { name: 'an unknown status', method: 'PATCH', path: tenant, body: { status: 'deleted' }, status: 400, message: /^status must be "active" or "suspended"$/ },
  { name: 'a read-only field in PATCH', method: 'PATCH', path: tenant, body: { id: 't_other' }, status: 400, message: /^id is not a field here/ },
  { name: 'a rename to a taken name', method: 'PATCH', path: tenant, body: { name: 'other' }, status: 409, message: /^a tenant named 'other' already exists$/ },
  { name: 'PATCH of an unknown tenant', method: 'PATCH', path: () => tenant('t_nobody'), body: { status: 'suspended' }, status: 404, message: /^no tenant 't_nobody'$/ },
  { name: 'DELETE of an unknown tenant', method: 'DELETE', path: () => tenant('t_nobody'), status: 404, message: /^no tenant 't_nobody'$/ },
  { name: 'DELETE of the bootstrap admin', method: 'DELETE', path: () => tenant('admin'), status: 404, message: /^no tenant 'admin'$/ },
  // Keys.
  { name: 'scopes that are not a list', method: 'POST', path: keys, body: { scopes: 'infer' }, status: 400, message: /^scopes must be a non-empty list of scopes \(infer, jobs, read, admin\)$/ },
  { name: 'no scopes', method: 'POST', path: keys, body: { scopes: [] }, status: 400, message: /^scopes must be a non-empty list/ },
  { name: 'an unknown scope', method: 'POST', path: keys, body: { scopes: ['infer', 'root'] }, status: 400, message: /^scopes\[1\] must be one of infer, jobs, read, admin, got "root"$/ },
  { name: 'an expiry that is not a time', method: 'POST', path: keys, body: { scopes: ['infer'], expires_at: 'tomorrow' }, status: 400, message: /^expires_at must be an ISO 8601 time/ },
  { name: 'an expiry in the past', method: 'POST', path: keys, body: { scopes: ['infer'], expires_at: '2020-01-01T00:00:00Z' }, status: 400, message: /^expires_at must be in the future$/ },
  { name: 'an unknown key field', method: 'POST', path: keys, body: { scopes: ['infer'], key: 'trg_mine' }, status: 400, message: /^key is not a field here \(known: scopes, expires_at\)$/ },
  { name: 'a key for an unknown tenant', method: 'POST', path: () => keys('t_nobody'), body: { scopes: ['infer'] }, status: 404, message: /^no tenant 't_nobody'$/ },
  { name: 'revoking an unknown key', method: 'DELETE', path: (id) => `${keys(id)}/NoSuchKey0`, status: 404, message: /^tenant '.*' has no key 'NoSuchKey0'$/ },
  { name: 'revoking a key through another tenant', method: 'DELETE', path: (_id, keyId) => `${keys('t_nobody')}/${keyId}`, status: 404, message: /^tenant 't_nobody' has no key '/ },
  // Quotas.
  { name: 'a negative rate', method: 'PUT', path: quotas, body: { requests_per_second: -5 }, status: 400, message: /^requests_per_second must be greater than 0 and at most 1000000, got -5$/ },
  { name: 'an absurd rate', method: 'PUT', path: quotas, body: { inferences_per_second: 1e12 }, status: 400, message: /^inferences_per_second must be greater than 0 and at most 1000000/ },
  { name: 'an absurd concurrency', method: 'PUT', path: quotas, body: { max_concurrent: 1e15 }, status: 400, message: /^max_concurrent must be between 1 and 1000000000000, got 1000000000000000$/ },
  { name: 'a fractional burst', method: 'PUT', path: quotas, body: { burst: 2.5 }, status: 400, message: /^burst must be an integer, got number 2.5$/ },
  { name: 'a budget given as a string', method: 'PUT', path: quotas, body: { daily_requests: '1000' }, status: 400, message: /^daily_requests must be an integer, got the string "1000"$/ },
  { name: 'an unknown quota field', method: 'PUT', path: quotas, body: { rps: 5 }, status: 400, message: /^rps is not a quota field \(known: / },
  { name: 'a tenant-only field under models', method: 'PUT', path: quotas, body: { models: { simple: { priority: 1 } } }, status: 400, message: /^models\.simple\.priority is not a per-model limit/ },
  { name: 'a bad model name in allowed_models', method: 'PUT', path: quotas, body: { allowed_models: ['ok', '../etc'] }, status: 400, message: /^allowed_models\[1\] must be a model name/ },
  { name: 'quotas that are a list', method: 'PUT', path: quotas, body: [], status: 400, message: /^quotas must be a JSON object, got an array$/ },
  { name: 'quotas of an unknown tenant', method: 'PUT', path: () => quotas('t_nobody'), body: { max_concurrent: 1 }, status: 404, message: /^no tenant 't_nobody'$/ },
  // Usage queries.
  { name: 'an impossible day', method: 'GET', path: () => '/v1/usage?from=2025-02-30', status: 400, message: /^from must be a day as YYYY-MM-DD, got "2025-02-30"$/ },
  { name: 'a day in another format', method: 'GET', path: () => '/v1/usage?to=03/05/2025', status: 400, message: /^to must be a day as YYYY-MM-DD/ },
  { name: 'a reversed range', method: 'GET', path: () => '/v1/usage?from=2025-03-02&to=2025-03-01', status: 400, message: /^from \(2025-03-02\) must not be after to \(2025-03-01\)$/ },
  { name: 'a range over 400 days', method: 'GET', path: () => '/v1/usage?from=2023-01-01&to=2025-01-01', status: 400, message: /^from\.\.to spans 732 days; at most 400 at a time$/ },
  { name: 'an unknown format', method: 'GET', path: () => '/v1/usage?format=xml', status: 400, message: /^format must be "json" or "csv", got "xml"$/ },
  { name: 'an unknown query parameter', method: 'GET', path: () => '/v1/usage?tenant_id=x', status: 400, message: /^query parameter 'tenant_id' is not known here \(known: from, to, tenant, model, format\)$/ },
  { name: 'a repeated query parameter', method: 'GET', path: () => '/v1/usage?from=2025-01-01&from=2025-01-02', status: 400, message: /^query parameter 'from' is given more than once/ },
  { name: 'usage of an unknown tenant', method: 'GET', path: () => '/v1/usage?tenant=t_nobody', status: 404, message: /^no tenant 't_nobody'$/ },
];

describe('admin API: bad input gets a clear 4xx naming the field, and changes nothing', function () {
  this.timeout(30_000);
  let api: AdminFixture;
  let tenantId: string;
  let keyId: string;

  before(async () => {
    api = await startAdminFixture();
    tenantId = await api.createTenant('existing');
    await api.createTenant('other');
    keyId = (await api.createKey(tenantId, ['infer'])).keyId;
    const stored = await api.call('PUT', quotas(tenantId), TEST_ADMIN_KEY, { requests_per_second: 10, max_concurrent: 2 });
    assert.equal(stored.status, 200, stored.text);
  });
  after(async () => {
    await api?.stop();
  });

  for (const input of CASES) {
    it(`${input.name}: ${input.status}`, async () => {
      const before = await api.snapshot();
      const answer = await api.call(input.method, input.path(tenantId, keyId), TEST_ADMIN_KEY, input.body, input.headers);
      assert.equal(answer.status, input.status, answer.text);
      assert.deepEqual(Object.keys(answer.body ?? {}), ['error'], answer.text);
      assert.match(answer.body?.['error'], input.message);
      assert.deepEqual(await api.snapshot(), before, 'the stored state is unchanged');
    });
  }

  it('kept the tenant, its key and its quotas as they were', async () => {
    assert.equal((await api.call('GET', tenant(tenantId))).body?.['status'], 'active');
    assert.deepEqual((await api.call('GET', keys(tenantId))).body?.['keys'].map((key: { key_id: string; revoked_at: string | null }) => [key.key_id, key.revoked_at]), [[keyId, null]]);
    assert.deepEqual((await api.call('GET', quotas(tenantId))).body, { requests_per_second: 10, max_concurrent: 2 });
  });
});
