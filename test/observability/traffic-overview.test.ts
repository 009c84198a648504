import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { latencyBucketOf, latencyQuantile, LATENCY_BOUNDS_MS } from '../../src/observability/traffic/latency-buckets';
import { grpcError, TritonTestClient } from '../support/grpc-test-client';
import { inferRequest, int32Buffer } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';
import { createTestTenant, type TestTenant } from '../support/tenant-setup';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function simpleRequest(): Record<string, unknown> {
  return inferRequest('simple', [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(Array.from({ length: 16 }, (_, i) => i)) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(new Array<number>(16).fill(1)) },
  ]);
}

const REST_BODY = JSON.stringify({ inputs: [
  { name: 'INPUT0', shape: [1, 16], datatype: 'INT32', data: Array.from({ length: 16 }, (_, i) => i) },
  { name: 'INPUT1', shape: [1, 16], datatype: 'INT32', data: new Array<number>(16).fill(1) },
] });

interface Overview {
  scope: string;
  tenant_id: string | null;
  step_seconds: number;
  window_seconds: number;
  series: { at: string; requests: number; errors: number; quota_rejections: number; p50_ms: number | null; p99_ms: number | null }[];
  totals: { requests_per_second: number; error_rate: number; p50_ms: number | null; p99_ms: number | null; requests: number; quota_rejections: number };
}

describe('traffic series: latency buckets', () => {
  it('puts each latency in the first bucket whose bound it does not exceed, and everything slower in the open bucket', () => {
    assert.equal(latencyBucketOf(0), 0);
    assert.equal(latencyBucketOf(0.25), 0);
    assert.equal(latencyBucketOf(0.26), 1);
    assert.equal(latencyBucketOf(30_000), LATENCY_BOUNDS_MS.length - 1);
    assert.equal(latencyBucketOf(30_001), LATENCY_BOUNDS_MS.length);
  });

  it('interpolates quantiles inside the bucket they fall in, and has none without counts', () => {
    const counts = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
    assert.equal(latencyQuantile(counts, 0.5), null);
    counts[latencyBucketOf(8)] = 100; // (7.5, 10]
    assert.equal(latencyQuantile(counts, 0.5), 8.75);
    assert.equal(latencyQuantile(counts, 1), 10);
    counts[latencyBucketOf(50_000)] = 2; // the open bucket answers its lower bound
    assert.equal(latencyQuantile(counts, 0.999), 30_000);
  });
});

describe('dashboard reads: /v1/whoami, /v1/overview, /v1/instances (one triage, one local-triton)', function () {
  this.timeout(30_000);
  let repository: TempRepository | undefined;
  let triton: LocalTritonFixture | undefined;
  let fixture: TriageFixture | undefined;
  let limited: TestTenant;
  let other: TestTenant;
  let reader: TestTenant;
  const clients: TritonTestClient[] = [];
  let base = '';

  const get = async (path: string, key: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, body: await response.json() as Record<string, unknown> };
  };

  before(async () => {
    repository = new TempRepository().copySample('simple');
    triton = await startLocalTritonFixture({ modelRepository: repository.path });
    fixture = await startTriageFixture([triton.address]);
    base = `http://127.0.0.1:${fixture.triage.httpPort}`;
    const service = fixture.triage.tenancy.service;
    limited = await createTestTenant(service, { quotas: { requests_per_second: 0.01, burst: 3 }, scopes: ['infer', 'read'] });
    other = await createTestTenant(service, { scopes: ['infer'] });
    reader = await createTestTenant(service, { scopes: ['read'] });
    for (let attempt = 0; attempt < 100 && !fixture.triage.pool.candidates('simple', '').length; attempt += 1) await sleep(50);
  });

  after(async () => {
    for (const client of clients) client.close();
    await fixture?.stop();
    await triton?.stop();
    repository?.remove();
  });

  it('counts every inference call of every tenant for an administrator, and only its own for a tenant\'s key', async () => {
    const limitedClient = new TritonTestClient(fixture!.address, undefined, limited.key);
    const otherClient = new TritonTestClient(fixture!.address, undefined, other.key);
    clients.push(limitedClient, otherClient);
    const before = (await get('/v1/overview', TEST_ADMIN_KEY)).body as unknown as Overview;
    // 3 admitted (the burst) and 2 refused by the quota for one tenant; 4 for the other (3 gRPC, 1 REST).
    for (let call = 0; call < 3; call += 1) await limitedClient.unary('ModelInfer', simpleRequest());
    for (let call = 0; call < 2; call += 1) assert.equal((await grpcError(limitedClient.unary('ModelInfer', simpleRequest()))).code, status.RESOURCE_EXHAUSTED);
    for (let call = 0; call < 3; call += 1) await otherClient.unary('ModelInfer', simpleRequest());
    const rest = await fetch(`${base}/v2/models/simple/infer`, { method: 'POST', headers: { authorization: `Bearer ${other.key}`, 'content-type': 'application/json' }, body: REST_BODY });
    assert.equal(rest.status, 200);
    await rest.arrayBuffer();
    await sleep(1_300); // one flush of the traffic counts (every second)

    const all = (await get('/v1/overview', TEST_ADMIN_KEY)).body as unknown as Overview;
    assert.equal(all.scope, 'all');
    assert.equal(all.step_seconds, 10);
    assert.equal(all.series.length, 360);
    assert.equal(all.totals.requests - before.totals.requests, 9);
    assert.equal(all.totals.quota_rejections - before.totals.quota_rejections, 2);
    assert.equal(all.series.reduce((sum, point) => sum + point.errors, 0) - before.series.reduce((sum, point) => sum + point.errors, 0), 2);
    assert.ok(all.totals.requests_per_second > 0);
    assert.ok(all.totals.error_rate > 0 && all.totals.error_rate < 1);
    assert.ok(all.totals.p50_ms !== null && all.totals.p99_ms !== null && all.totals.p99_ms >= all.totals.p50_ms);
    assert.ok(Date.parse(all.series[all.series.length - 1]!.at) <= Date.now());

    const own = await get('/v1/overview', limited.key);
    assert.equal(own.status, 200);
    const mine = own.body as unknown as Overview;
    assert.equal(mine.scope, 'tenant');
    assert.equal(mine.tenant_id, limited.id);
    assert.equal(mine.totals.requests, 5);
    assert.equal(mine.totals.quota_rejections, 2);
    const asAdmin = (await get(`/v1/overview?tenant=${other.id}`, TEST_ADMIN_KEY)).body as unknown as Overview;
    assert.equal(asAdmin.totals.requests, 4);
    assert.equal(asAdmin.totals.quota_rejections, 0);
  });

  it('answers another tenant\'s overview to a tenant\'s key as if it did not exist, and refuses keys without read', async () => {
    const peek = await get(`/v1/overview?tenant=${other.id}`, limited.key);
    assert.equal(peek.status, 404);
    assert.equal(peek.body['error'], `no tenant '${other.id}'`);
    assert.equal((await get('/v1/overview', other.key)).status, 403);
    assert.equal((await get('/v1/instances', other.key)).status, 403);
    const bad = await get('/v1/overview?window_seconds=15', TEST_ADMIN_KEY);
    assert.equal(bad.status, 400);
    assert.match(String(bad.body['error']), /window_seconds/);
    const short = (await get('/v1/overview?window_seconds=60', TEST_ADMIN_KEY)).body as unknown as Overview;
    assert.equal(short.series.length, 6);
  });

  it('tells any valid key who it is, and refuses a wrong key', async () => {
    const me = await get('/v1/whoami', other.key);
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, { tenant_id: other.id, key_id: other.keyId, scopes: ['infer'] });
    assert.deepEqual((await get('/v1/whoami', reader.key)).body['scopes'], ['read']);
    assert.equal((await get('/v1/whoami', `trg_${'Q'.repeat(10)}_${'z'.repeat(32)}`)).status, 401);
  });

  it('lists the instances with their health, readiness, calls in flight and READY models', async () => {
    const answer = await get('/v1/instances', reader.key);
    assert.equal(answer.status, 200);
    const instances = answer.body['instances'] as { address: string; health: string; ready: boolean; in_flight: number; models: { name: string; versions: string[] }[]; gpu: unknown[] }[];
    assert.equal(instances.length, 1);
    const [instance] = instances;
    assert.equal(instance?.address, triton!.address);
    assert.equal(instance?.health, 'healthy');
    assert.equal(instance?.ready, true);
    assert.equal(instance?.in_flight, 0);
    assert.deepEqual(instance?.models, [{ name: 'simple', versions: ['1'] }]);
    assert.ok(Array.isArray(instance?.gpu));
  });
});
