import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'mocha';
import { silentLogger } from '../../src/observability/logger';
import { UsageMeter } from '../../src/tenancy/usage-meter';
import { grpcError, TritonTestClient } from '../support/grpc-test-client';
import { float32Buffer, inferRequest } from '../support/infer-request';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { startAdminFixture, type AdminFixture, type JsonDocument } from './admin-fixture';

const FIELDS_OF_KEY = ['created_at', 'expires_at', 'key_id', 'revoked_at', 'scopes', 'tenant_id'];

describe('admin API: tenants, keys, quotas and usage under /v1', function () {
  this.timeout(30_000);
  let api: AdminFixture;

  before(async () => {
    api = await startAdminFixture();
  });
  after(async () => {
    await api?.stop();
  });

  it('creates, reads, renames, relabels and deletes a tenant, answering the resulting resource each time', async () => {
    const created = await api.call('POST', '/v1/tenants', TEST_ADMIN_KEY, { name: 'Radiology viewer', labels: { department: 'radiology' } });
    assert.equal(created.status, 201, created.text);
    const tenant = created.body as JsonDocument;
    assert.match(tenant['id'], /^t_[A-Za-z0-9]{12}$/);
    assert.deepEqual({ ...tenant, id: '', created_at: '', updated_at: '' }, { id: '', name: 'Radiology viewer', status: 'active', labels: { department: 'radiology' }, created_at: '', updated_at: '' });
    assert.equal(created.headers.get('location'), `/v1/tenants/${tenant['id']}`);
    assert.equal(created.headers.get('cache-control'), 'no-store');

    assert.deepEqual((await api.call('GET', `/v1/tenants/${tenant['id']}`)).body, tenant);
    assert.ok((await api.call('GET', '/v1/tenants')).body?.['tenants'].some((each: JsonDocument) => each['id'] === tenant['id']));

    const patched = await api.call('PATCH', `/v1/tenants/${tenant['id']}`, TEST_ADMIN_KEY, { name: 'Radiology', labels: { tier: 'gold' } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body?.['name'], 'Radiology');
    assert.deepEqual(patched.body?.['labels'], { tier: 'gold' });
    assert.deepEqual((await api.call('GET', `/v1/tenants/${tenant['id']}`)).body, patched.body);

    const suspended = await api.call('PATCH', `/v1/tenants/${tenant['id']}`, TEST_ADMIN_KEY, { status: 'suspended' });
    assert.equal(suspended.body?.['status'], 'suspended');
    const resumed = await api.call('PATCH', `/v1/tenants/${tenant['id']}`, TEST_ADMIN_KEY, { status: 'active' });
    assert.equal(resumed.body?.['status'], 'active');

    const deleted = await api.call('DELETE', `/v1/tenants/${tenant['id']}`);
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.body, resumed.body, 'DELETE answers the tenant as it was');
    const gone = await api.call('GET', `/v1/tenants/${tenant['id']}`);
    assert.equal(gone.status, 404);
    assert.deepEqual(gone.body, { error: `no tenant '${tenant['id']}'` });
    assert.ok(!(await api.call('GET', '/v1/tenants')).body?.['tenants'].some((each: JsonDocument) => each['id'] === tenant['id']));
    // The name is free again.
    assert.equal((await api.call('POST', '/v1/tenants', TEST_ADMIN_KEY, { name: 'Radiology' })).status, 201);
  });

  it('shows a key\'s secret in the 201 of its creation and in no other answer, nor in Redis', async () => {
    const tenantId = await api.createTenant('secrets');
    const created = await api.call('POST', `/v1/tenants/${tenantId}/keys`, TEST_ADMIN_KEY, { scopes: ['infer', 'read'], expires_at: '2099-01-31T00:00:00Z' });
    assert.equal(created.status, 201, created.text);
    const { key, ...record } = created.body as JsonDocument;
    assert.deepEqual(Object.keys(record).sort(), FIELDS_OF_KEY);
    assert.match(key, new RegExp(`^trg_${record['key_id']}_[A-Za-z0-9]{32}$`));
    assert.deepEqual(record['scopes'], ['infer', 'read']);
    assert.equal(record['expires_at'], '2099-01-31T00:00:00.000Z');
    assert.equal(record['revoked_at'], null);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const secret = (key as string).split('_')[2] as string;
    const hash = createHash('sha256').update(secret).digest('hex');

    const answers = [
      await api.call('GET', `/v1/tenants/${tenantId}/keys`),
      await api.call('GET', `/v1/tenants/${tenantId}/keys`, key),
      await api.call('GET', `/v1/tenants/${tenantId}`),
      await api.call('GET', '/v1/tenants'),
      await api.call('DELETE', `/v1/tenants/${tenantId}/keys/${record['key_id']}`),
      await api.call('GET', `/v1/tenants/${tenantId}/keys`),
    ];
    for (const answer of answers) {
      assert.ok(answer.status === 200, answer.text);
      assert.ok(!answer.text.includes(secret) && !answer.text.includes(hash) && !answer.text.includes('secret_sha256'), answer.text);
    }
    const listed = answers[0]?.body?.['keys'] as JsonDocument[];
    assert.deepEqual(listed, [record]);
    for (const [, value] of await api.snapshot()) assert.ok(!JSON.stringify(value).includes(secret), 'Redis holds the hash only');
  });

  it('revokes a key: within a second it gets 401 on /v1 and UNAUTHENTICATED on the gRPC port', async () => {
    const tenantId = await api.createTenant('revocation');
    const { key, keyId } = await api.createKey(tenantId, ['infer', 'read']);
    const client = new TritonTestClient(api.triage.address, undefined, key);
    const infer = (): Promise<unknown> => client.unary('ModelInfer', inferRequest('identity_fp32', [{ name: 'INPUT0', datatype: 'FP32', shape: [4], raw: float32Buffer([1, 2, 3, 4]) }]));
    try {
      assert.equal((await api.call('GET', `/v1/tenants/${tenantId}`, key)).status, 200);
      await infer();

      const revoked = await api.call('DELETE', `/v1/tenants/${tenantId}/keys/${keyId}`);
      assert.equal(revoked.status, 200, revoked.text);
      assert.equal(revoked.body?.['key_id'], keyId);
      assert.ok(!Number.isNaN(Date.parse(revoked.body?.['revoked_at'])));
      const revokedAt = Date.now();

      const refused = await api.call('GET', `/v1/tenants/${tenantId}`, key);
      assert.equal(refused.status, 401);
      assert.deepEqual(refused.body, { error: `API key ${keyId} was revoked` });
      const error = await grpcError(infer());
      assert.equal(error.code, status.UNAUTHENTICATED);
      assert.equal(error.details, `API key ${keyId} was revoked`);
      assert.ok(Date.now() - revokedAt < 1000, 'both refusals within a second of the revocation');

      const again = await api.call('DELETE', `/v1/tenants/${tenantId}/keys/${keyId}`);
      assert.equal(again.status, 200, 'revoking twice is harmless');
      assert.equal(again.body?.['revoked_at'], revoked.body?.['revoked_at'], 'and keeps the first revocation time');
      assert.deepEqual((await api.call('GET', `/v1/tenants/${tenantId}/keys`)).body?.['keys'], [revoked.body]);
    } finally {
      client.close();
    }
  });

  it('replaces and reads quotas, answering the document as stored', async () => {
    const tenantId = await api.createTenant('quotas');
    assert.deepEqual((await api.call('GET', `/v1/tenants/${tenantId}/quotas`)).body, {});
    const document = {
      requests_per_second: 50,
      burst: 10,
      max_concurrent: 4,
      daily_requests: 100_000,
      allowed_models: 'all',
      priority: 1,
      models: { identity_fp32: { requests_per_second: 5, max_request_bytes: 65_536 } },
    };
    const stored = await api.call('PUT', `/v1/tenants/${tenantId}/quotas`, TEST_ADMIN_KEY, document);
    assert.equal(stored.status, 200, stored.text);
    assert.deepEqual(stored.body, { ...document, allowed_models: null });
    assert.deepEqual((await api.call('GET', `/v1/tenants/${tenantId}/quotas`)).body, stored.body);
    const replaced = await api.call('PUT', `/v1/tenants/${tenantId}/quotas`, TEST_ADMIN_KEY, { max_concurrent: 2 });
    assert.deepEqual(replaced.body, { max_concurrent: 2 }, 'PUT replaces the whole document');
  });

  it('answers 404 for an unknown /v1 path and 405 with Allow for a wrong method', async () => {
    const unknown = await api.call('GET', '/v1/tenant');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { error: 'no route GET /v1/tenant: see GET /v1/openapi.json' });
    const wrong = await api.call('PUT', '/v1/tenants');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET, POST');
    assert.deepEqual(wrong.body, { error: 'PUT is not allowed here; allowed: GET, POST' });
  });

  describe('usage', () => {
    let first: string;
    let second: string;
    const DAY_ONE = Date.parse('2025-03-05T12:00:00Z');
    const DAY_TWO = Date.parse('2025-03-06T23:59:00Z');
    const sample = (inferences: number, error = false): { inferences: number; bytesIn: number; bytesOut: number; error: boolean; latencyMs: number } =>
      ({ inferences, bytesIn: 16 * inferences, bytesOut: 16 * inferences, error, latencyMs: 2.4 });

    before(async () => {
      first = await api.createTenant('usage one');
      second = await api.createTenant('usage two');
      const { redis, keys } = api.triage.triage.tenancy;
      // The product's own meter, with a clock set to the days under test.
      const meterOn = (time: number): UsageMeter => new UsageMeter(redis, keys, 60_000, silentLogger(), () => time);
      const one = meterOn(DAY_ONE);
      one.record(first, 'identity_fp32', sample(4));
      one.record(first, 'identity_fp32', sample(2, true));
      one.record(first, 'simple', sample(1));
      await one.flush();
      const two = meterOn(DAY_TWO);
      two.record(second, 'simple', sample(8));
      two.record(first, 'simple', sample(3));
      await two.flush();
    });

    const row = (tenant: string, model: string, day: string, requests: number, inferences: number, errors: number): JsonDocument =>
      ({ tenant_id: tenant, model, day, requests, inferences, bytes_in: 16 * inferences, bytes_out: 16 * inferences, errors, latency_ms: 2 * requests });

    it('answers every tenant\'s rows to an admin, sorted by tenant, day and model, and filters by tenant and model', async () => {
      const expected = [
        row(first, 'identity_fp32', '2025-03-05', 2, 6, 1),
        row(first, 'simple', '2025-03-05', 1, 1, 0),
        row(first, 'simple', '2025-03-06', 1, 3, 0),
        row(second, 'simple', '2025-03-06', 1, 8, 0),
      ].sort((a, b) => a['tenant_id'].localeCompare(b['tenant_id']) || a['day'].localeCompare(b['day']) || a['model'].localeCompare(b['model']));
      const all = await api.call('GET', '/v1/usage?from=2025-03-01&to=2025-03-31');
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(all.body, { from: '2025-03-01', to: '2025-03-31', tenant: null, model: null, rows: expected });

      const one = await api.call('GET', `/v1/usage?from=2025-03-01&to=2025-03-31&tenant=${first}&model=simple`);
      assert.deepEqual(one.body?.['rows'], expected.filter((each) => each['tenant_id'] === first && each['model'] === 'simple'));
      const day = await api.call('GET', '/v1/usage?from=2025-03-06&to=2025-03-06');
      assert.deepEqual(day.body?.['rows'], expected.filter((each) => each['day'] === '2025-03-06'));
      const unknown = await api.call('GET', '/v1/usage?tenant=t_nobody');
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.body, { error: "no tenant 't_nobody'" });
    });

    it('defaults to the current month up to today', async () => {
      const answer = await api.call('GET', '/v1/usage');
      const today = new Date().toISOString().slice(0, 10);
      assert.equal(answer.body?.['to'], today);
      assert.equal(answer.body?.['from'], `${today.slice(0, 7)}-01`);
    });

    it('exports the billing CSV: a header row, then one row per tenant, model and day', async () => {
      const csv = await api.call('GET', `/v1/usage?from=2025-03-01&to=2025-03-31&tenant=${first}&format=csv`);
      assert.equal(csv.status, 200, csv.text);
      assert.equal(csv.headers.get('content-type'), 'text/csv; charset=utf-8');
      assert.equal(csv.headers.get('content-disposition'), 'attachment; filename=triage-usage-2025-03-01-2025-03-31.csv');
      assert.equal(csv.text, [
        'tenant_id,model,day,requests,inferences,bytes_in,bytes_out,errors,latency_ms',
        `${first},identity_fp32,2025-03-05,2,6,96,96,1,4`,
        `${first},simple,2025-03-05,1,1,16,16,0,2`,
        `${first},simple,2025-03-06,1,3,48,48,0,2`,
        '',
      ].join('\r\n'));
      const accepted = await api.call('GET', `/v1/usage?from=2025-03-01&to=2025-03-31&tenant=${first}`, TEST_ADMIN_KEY, undefined, { accept: 'text/csv' });
      assert.equal(accepted.text, csv.text, 'Accept: text/csv gives the same export');
      const empty = await api.call('GET', '/v1/usage?from=2024-01-01&to=2024-01-31&format=csv');
      assert.equal(empty.text, 'tenant_id,model,day,requests,inferences,bytes_in,bytes_out,errors,latency_ms\r\n');
    });

    it('answers a tenant\'s read key its own usage only; another tenant is 404', async () => {
      const { key } = await api.createKey(first, ['read']);
      const own = await api.call('GET', '/v1/usage?from=2025-03-01&to=2025-03-31', key);
      assert.equal(own.status, 200, own.text);
      assert.deepEqual([...new Set(own.body?.['rows'].map((each: JsonDocument) => each['tenant_id']))], [first]);
      assert.equal(own.body?.['rows'].length, 3);
      assert.deepEqual((await api.call('GET', `/v1/usage?from=2025-03-01&to=2025-03-31&tenant=${first}`, key)).body, { ...own.body, tenant: first });
      const other = await api.call('GET', `/v1/usage?from=2025-03-01&to=2025-03-31&tenant=${second}`, key);
      assert.equal(other.status, 404);
      assert.deepEqual(other.body, { error: `no tenant '${second}'` });
      const csv = await api.call('GET', `/v1/usage?from=2025-03-01&to=2025-03-31&format=csv&tenant=${second}`, key);
      assert.equal(csv.status, 404);
    });
  });
});
