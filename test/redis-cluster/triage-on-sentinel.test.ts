import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { Redis } from 'ioredis';
import { waitUntil } from '../controller/controller-fixture';
import { grpcError, TritonTestClient } from '../support/grpc-test-client';
import { inferRequest, int32Buffer } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { startRedisSentinel, type LocalRedisSentinel } from '../support/redis-cluster';
import { TempRepository } from '../support/temp-repository';
import { createTestTenant } from '../support/tenant-setup';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

const range = (count: number, from = 0): number[] => Array.from({ length: count }, (_, index) => from + index);
const simpleCall = inferRequest('simple', [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(range(16)) },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(range(16, 1)) },
]);

describe('triage through Redis Sentinel (redis+sentinel://)', function () {
  this.timeout(60_000);
  let sentinel: LocalRedisSentinel;
  let repository: TempRepository;
  let instance: LocalTritonFixture;
  let triage: TriageFixture;
  let client: TritonTestClient | null = null;

  before(async () => {
    sentinel = await startRedisSentinel();
    repository = new TempRepository().copySample('simple');
    instance = await startLocalTritonFixture({ modelRepository: repository.path });
    triage = await startTriageFixture([instance.address], { redisUrl: sentinel.url, modelRepository: repository.path });
  });

  after(async () => {
    client?.close();
    await triage?.stop();
    await instance?.stop();
    repository?.remove();
    await sentinel?.stop();
  });

  it('finds the master through the sentinel, admits a quota\'d key exactly and reads its usage back', async () => {
    const server = await triage.triage.tenancy.redis.info('server');
    assert.equal(/tcp_port:(\d+)/.exec(server)?.[1], String(sentinel.master.port), 'connected to the master the sentinel names');
    assert.doesNotMatch(server, /redis_mode:sentinel/);
    const tenant = await createTestTenant(triage.triage.tenancy.service, { quotas: { requests_per_second: 0.01, burst: 2 }, scopes: ['infer', 'read'] });
    client = new TritonTestClient(triage.address, undefined, tenant.key);
    await waitUntil(() => triage.triage.pool.candidates('simple', '').length > 0, 5000, 'simple is routable');
    await client.unary('ModelInfer', simpleCall);
    await client.unary('ModelInfer', simpleCall);
    assert.equal((await grpcError(client.unary('ModelInfer', simpleCall))).code, status.RESOURCE_EXHAUSTED);
    // The master holds the tenant's records (the sentinel holds none).
    assert.equal(await triage.triage.tenancy.redis.exists(triage.triage.tenancy.keys.tenant(tenant.id)), 1);
    let rows: Record<string, unknown>[] = [];
    await waitUntil(async () => {
      const response = await fetch(`http://127.0.0.1:${triage.triage.httpPort}/v1/usage`, { headers: { authorization: `Bearer ${tenant.key}` } });
      rows = ((await response.json()) as { rows: Record<string, unknown>[] }).rows;
      return rows.length === 1 && rows[0]?.['requests'] === 2;
    }, 5000, 'the usage of the two admitted calls is flushed (a refusal is not usage)');
    assert.equal(rows[0]?.['tenant_id'], tenant.id);
    assert.equal(rows[0]?.['model'], 'simple');
    assert.equal(rows[0]?.['inferences'], 2);
    assert.equal(rows[0]?.['errors'], 0);
  });
});

describe('triage through a Redis Sentinel that requires a password (redis+sentinel://...?sentinel_password=)', function () {
  this.timeout(60_000);
  const SENTINEL_PASSWORD = 'sentinel-secret-0123456789';
  let sentinel: LocalRedisSentinel;
  let repository: TempRepository;
  let instance: LocalTritonFixture;
  let triage: TriageFixture;

  before(async () => {
    sentinel = await startRedisSentinel({ sentinelPassword: SENTINEL_PASSWORD });
    repository = new TempRepository().copySample('simple');
    instance = await startLocalTritonFixture({ modelRepository: repository.path });
    triage = await startTriageFixture([instance.address], { redisUrl: sentinel.url, modelRepository: repository.path });
  });

  after(async () => {
    await triage?.stop();
    await instance?.stop();
    repository?.remove();
    await sentinel?.stop();
  });

  it('asks the sentinel with its password and reaches the master', async () => {
    // The sentinel really refuses a client without the password.
    const anonymous = new Redis({ port: sentinel.sentinel.port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    anonymous.on('error', () => undefined);
    try {
      await anonymous.connect();
      await assert.rejects(anonymous.call('SENTINEL', 'get-master-addr-by-name', sentinel.masterName), /NOAUTH|Authentication required/);
    } finally {
      anonymous.disconnect();
    }
    const server = await triage.triage.tenancy.redis.info('server');
    assert.equal(/tcp_port:(\d+)/.exec(server)?.[1], String(sentinel.master.port), 'connected to the master the sentinel names');
    const tenant = await createTestTenant(triage.triage.tenancy.service, { scopes: ['infer'] });
    assert.equal(await triage.triage.tenancy.redis.exists(triage.triage.tenancy.keys.tenant(tenant.id)), 1);
  });
});
