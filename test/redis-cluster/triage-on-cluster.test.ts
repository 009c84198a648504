import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import { after, before, describe, it } from 'mocha';
import type { PlacementRecord } from '../../src/registry/model-record';
import { closeRedisClient, createRedisClient, mastersOf, waitUntilReady, type RedisClient } from '../../src/redis/redis-client';
import { AdminHttp, inferSimple, readyVersions, simpleModelFiles, simpleOnnx, waitUntil } from '../controller/controller-fixture';
import { grpcError, TritonTestClient } from '../support/grpc-test-client';
import { inferRequest, int32Buffer } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { startRedisCluster, type LocalRedisCluster } from '../support/redis-cluster';
import { TempRepository } from '../support/temp-repository';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { controllerOf, startTriageFixture, type TriageFixture } from '../support/triage-fixture';

// A JSON answer under test: `any` so that assertions can reach into it (the assertions are the type check).
type Json = Record<string, any>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const range = (count: number, from = 0): number[] => Array.from({ length: count }, (_, index) => from + index);
const simpleCall = (model = 'simple') => inferRequest(model, [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(range(16)) },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(range(16, 1)) },
]);

/**
 * triage (every role, in-process) on a local three-master Redis Cluster in front of one
 * local-triton in explicit mode: every feature that keeps state in Redis, end to end.
 * The instance has room for two `simple`-sized models (on-demand loading evicts for a third).
 */
describe('triage on a three-master Redis Cluster', function () {
  this.timeout(120_000);
  let cluster: LocalRedisCluster;
  let repository: TempRepository;
  let instance: LocalTritonFixture;
  let triage: TriageFixture;
  let admin: AdminHttp;
  let observer: RedisClient | null = null;
  const clients: TritonTestClient[] = [];
  /** The tenant whose burst of 12 calls the quota test sends. */
  let limited: { id: string; keyId: string; key: string };

  const http = async (method: string, path: string, key: string | null, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; body: Json }> => {
    const response = await fetch(`${admin.base}${path}`, {
      method,
      headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...(body === undefined || typeof body === 'string' ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: Json = {};
    try {
      parsed = JSON.parse(text) as Json;
    } catch {
      parsed = {};
    }
    return { status: response.status, text, body: parsed };
  };
  const ok = async (method: string, path: string, key: string | null = TEST_ADMIN_KEY, body?: unknown, headers: Record<string, string> = {}): Promise<Json> => {
    const answer = await http(method, path, key, body, headers);
    assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${answer.status} ${answer.text}`);
    return answer.body;
  };
  const tenantWithKey = async (name: string, scopes: readonly string[], quotas?: unknown): Promise<{ id: string; keyId: string; key: string }> => {
    const id = (await ok('POST', '/v1/tenants', TEST_ADMIN_KEY, { name }))['id'] as string;
    if (quotas !== undefined) await ok('PUT', `/v1/tenants/${id}/quotas`, TEST_ADMIN_KEY, quotas);
    const created = await ok('POST', `/v1/tenants/${id}/keys`, TEST_ADMIN_KEY, { scopes });
    return { id, keyId: created['key_id'] as string, key: created['key'] as string };
  };
  const client = (key: string): TritonTestClient => {
    const made = new TritonTestClient(triage.address, undefined, key);
    clients.push(made);
    return made;
  };
  /** The master (host:port) serving a key's slot, as triage's cluster client knows it. */
  const masterOf = (key: string): string => (redis() as Cluster).slots[calculateSlot(key)]?.[0] ?? 'unknown';
  const keys = () => triage.triage.tenancy.keys;
  const redis = () => triage.triage.tenancy.redis;

  before(async () => {
    cluster = await startRedisCluster();
    repository = new TempRepository();
    instance = await startLocalTritonFixture({ modelRepository: repository.path, modelControlMode: 'explicit', strictReadiness: false, metricsPort: -1 });
    triage = await startTriageFixture([instance.address], {
      redisUrl: cluster.url,
      modelRepository: repository.path,
      controllerLeaseTtlMs: 1000,
      controllerTickMs: 200,
      instanceMemory: new Map([['*', Math.floor(simpleOnnx().length * 2.5)]]),
      evictIdleMinMs: 1000,
      onDemandTimeoutMs: 20_000,
    });
    admin = new AdminHttp(`http://127.0.0.1:${triage.triage.httpPort}`);
  });

  after(async () => {
    for (const each of clients) each.close();
    if (observer !== null) await closeRedisClient(observer);
    await triage?.stop();
    await instance?.stop();
    repository?.remove();
    await cluster?.stop();
  });

  it('model registry: a pushed and deployed model is loaded by the leading controller (its lease in the cluster) and serves', async () => {
    await waitUntil(() => controllerOf(triage.triage).isLeader(), 5000, 'the controller leads');
    assert.match(await redis().get(keys().controllerLease()) ?? '', /.+/, 'the lease key holds its owner');
    await admin.register(simpleModelFiles('simple'));
    await admin.expect(202, 'POST', '/v1/models/simple/deploy', { replicas: 1 });
    await waitUntil(async () => (await triage.triage.registry.store.placement('simple')).some((record: PlacementRecord) => record.state === 'READY'), 15_000, 'simple READY');
    assert.deepEqual(await readyVersions([instance.client], 'simple'), ['1']);
    const shown = await admin.expect(200, 'GET', '/v1/models/simple');
    assert.deepEqual(shown['state'].map((state: PlacementRecord) => [state.instance, state.state]), [[instance.address, 'READY']]);
    await waitUntil(() => triage.triage.pool.candidates('simple', '').length > 0, 5000, 'the proxy routes simple');
    assert.equal(await inferSimple(triage.client, 'simple'), '1');
  });

  it('quota admission is exact: of a burst of 12 calls, the 5 of the burst pass and 7 are refused', async () => {
    limited = await tenantWithKey('cluster-limited', ['infer', 'read'], { requests_per_second: 0.01, burst: 5 });
    const limitedClient = client(limited.key);
    const outcomes = await Promise.allSettled(range(12).map(() => limitedClient.unary('ModelInfer', simpleCall())));
    const passed = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected' && (outcome.reason as { code: number }).code === status.RESOURCE_EXHAUSTED).length;
    assert.deepEqual([passed, refused], [5, 7]);
    assert.equal((await grpcError(limitedClient.unary('ModelInfer', simpleCall()))).code, status.RESOURCE_EXHAUSTED);
  });

  it('tenants spread over the masters: listed, their keys listed, their leases given back, their usage flushed and read back exactly', async () => {
    const tenants: { id: string; keyId: string; key: string; calls: number }[] = [];
    // Tenant ids are random: make tenants until their slots are on every master.
    while (tenants.length < 6 || new Set(tenants.map((tenant) => masterOf(keys().tenant(tenant.id)))).size < cluster.masters.length) {
      assert.ok(tenants.length < 40, 'tenant ids spread over the slots');
      tenants.push({ ...await tenantWithKey(`cluster-usage-${tenants.length}`, ['infer', 'read'], { max_concurrent: 2 }), calls: (tenants.length % 4) + 1 });
    }
    await Promise.all(tenants.map(async (tenant) => {
      const each = client(tenant.key);
      for (let call = 0; call < tenant.calls; call++) await each.unary('ModelInfer', simpleCall());
    }));
    // Finished calls give their concurrency leases back (one pipeline per master for every tenant's lease key).
    const leaseKeys = tenants.map((tenant) => `${keys().admission(tenant.id, null)}:conc`);
    await waitUntil(async () => (await Promise.all(leaseKeys.map((key) => redis().zcard(key)))).every((held) => held === 0), 3000, 'every lease is given back');
    const listed = (await ok('GET', '/v1/tenants'))['tenants'] as Json[];
    for (const tenant of tenants) {
      assert.ok(listed.some((each) => each['id'] === tenant.id), `tenant ${tenant.id} listed`);
      const tenantKeys = (await ok('GET', `/v1/tenants/${tenant.id}/keys`))['keys'] as Json[];
      assert.deepEqual(tenantKeys.map((key) => key['key_id']), [tenant.keyId]);
    }
    const expected = new Map(tenants.map((tenant) => [tenant.id, tenant.calls]));
    let rows: Json[] = [];
    await waitUntil(async () => {
      rows = ((await ok('GET', '/v1/usage'))['rows'] as Json[]).filter((row) => expected.has(row['tenant_id']));
      return rows.length === tenants.length && rows.every((row) => row['requests'] === expected.get(row['tenant_id']));
    }, 5000, 'every tenant\'s usage is flushed');
    for (const row of rows) {
      assert.equal(row['model'], 'simple');
      assert.equal(row['inferences'], expected.get(row['tenant_id']));
      assert.equal(row['errors'], 0);
    }
    // A tenant's read key sees its own row only.
    const own = await ok('GET', '/v1/usage', tenants[0]?.key);
    assert.deepEqual((own['rows'] as Json[]).map((row) => [row['tenant_id'], row['requests']]), [[tenants[0]?.id, tenants[0]?.calls]]);
  });

  it('invalidation over cluster pub/sub: a revoked key is refused within 1 s, and the message reaches a subscriber', async () => {
    observer = createRedisClient({ url: cluster.url, name: 'test:observer', failFast: false });
    observer.on('error', () => undefined);
    await waitUntilReady(observer, 10_000);
    const messages: string[] = [];
    observer.on('message', (channel: string, message: string) => { if (channel === keys().invalidation()) messages.push(message); });
    await observer.subscribe(keys().invalidation());
    const tenant = await tenantWithKey('cluster-revoked', ['infer']);
    const revokedClient = client(tenant.key);
    await revokedClient.unary('ModelInfer', simpleCall());
    await ok('DELETE', `/v1/tenants/${tenant.id}/keys/${tenant.keyId}`);
    const revokedMs = Date.now();
    let refusedAfterMs = Infinity;
    while (Date.now() - revokedMs < 3000) {
      const outcome = await revokedClient.unary('ModelInfer', simpleCall()).then(() => null, (error: { code: number }) => error);
      if (outcome !== null) {
        assert.equal(outcome.code, status.UNAUTHENTICATED);
        refusedAfterMs = Date.now() - revokedMs;
        break;
      }
    }
    assert.ok(refusedAfterMs < 1000, `still accepted ${refusedAfterMs} ms after the revocation`);
    await waitUntil(() => messages.some((message) => message.endsWith(`key:${tenant.keyId}`)), 2000, 'the invalidation message arrives');
  });

  it('a batch job of 1,000 rows (BullMQ on the cluster) completes with every custom_id exactly once', async () => {
    const tenant = await tenantWithKey('cluster-jobs', ['jobs']);
    const rows = range(1000).map((index) => ({ custom_id: `row-${index}`, inputs: { INPUT0: range(16, index), INPUT1: range(16, 1) } }));
    const body = `${rows.map((row) => JSON.stringify(row)).join('\n')}\n`;
    const created = await ok('POST', '/v1/jobs?model=simple', tenant.key, body, { 'content-type': 'application/x-ndjson' });
    const jobId = created['id'] as string;
    assert.equal(created['chunks_total'], 32);
    let job: Json = {};
    await waitUntil(async () => {
      job = await ok('GET', `/v1/jobs/${jobId}`, tenant.key);
      return ['completed', 'failed', 'cancelled', 'expired'].includes(job['status']);
    }, 90_000, 'the job ends');
    assert.equal(job['status'], 'completed');
    assert.deepEqual(job['request_counts'], { total: 1000, completed: 1000, failed: 0 });
    const results = await http('GET', `/v1/jobs/${jobId}/results`, tenant.key);
    assert.equal(results.status, 200);
    const lines = results.text.trim().split('\n').map((line) => JSON.parse(line) as Json);
    const ids = lines.map((line) => line['custom_id'] as string);
    assert.equal(ids.length, 1000);
    assert.deepEqual([...new Set(ids)].sort(), rows.map((row) => row.custom_id).sort());
    const row = lines.find((line) => line['custom_id'] === 'row-777') as Json;
    assert.deepEqual(row['outputs']['OUTPUT0'], range(16, 777).map((value, index) => value + index + 1));
    assert.equal((await http('GET', `/v1/jobs/${jobId}/errors`, tenant.key)).text.trim(), '');
    // Every key of the job shares its slot.
    const jobSlots = new Set([keys().job(jobId), keys().jobDone(jobId), keys().jobResults(jobId, 31)].map((key) => calculateSlot(key)));
    assert.equal(jobSlots.size, 1);
  });

  it('on-demand loading: a model waiting for room evicts the least recently used one; last-use times are in the cluster', async () => {
    const testStartMs = Date.now();
    await admin.register(simpleModelFiles('m_a'));
    await admin.expect(202, 'POST', '/v1/models/m_a/deploy', { replicas: 1 });
    await waitUntil(async () => (await readyVersions([instance.client], 'm_a'))[0] === '1', 15_000, 'm_a READY');
    await admin.register(simpleModelFiles('m_b'));
    await admin.expect(202, 'POST', '/v1/models/m_b/deploy', { replicas: 1 });
    await waitUntil(() => controllerOf(triage.triage).status().unplaced.some((each) => each.name === 'm_b'), 10_000, 'm_b unplaced (no room)');
    await sleep(1200); // past m_a's protection
    await inferSimple(triage.client, 'simple');
    assert.equal(await inferSimple(triage.client, 'm_b'), '1');
    assert.deepEqual(await readyVersions([instance.client], 'm_a'), [''], 'm_a (never used) gave its room');
    assert.deepEqual(await readyVersions([instance.client], 'simple'), ['1'], 'simple (used just now) stays');
    await waitUntil(async () => {
      const times = await triage.triage.tenancy.redis.hgetall(keys().modelRecency());
      return Number(times['simple']) >= testStartMs && Number(times['m_b']) >= testStartMs;
    }, 5000, 'the last uses of simple and m_b are recorded');
  });

  it('audit: admin changes and inference metadata in their streams, read back through GET /v1/audit', async () => {
    const changes = (await ok('GET', '/v1/audit?kind=admin&limit=500'))['entries'] as Json[];
    const actions = new Set(changes.map((entry) => entry['action']));
    for (const action of ['tenant.create', 'key.create', 'quota.set', 'key.revoke', 'model.create']) assert.ok(actions.has(action), `${action} audited`);
    let inference: Json[] = [];
    await waitUntil(async () => {
      inference = (await ok('GET', `/v1/audit?kind=inference&tenant=${limited.id}&limit=100`))['entries'] as Json[];
      return inference.length >= 13;
    }, 5000, 'the limited tenant\'s calls are audited');
    assert.equal(inference.filter((entry) => entry['code'] === 'OK').length, 5);
    assert.equal(inference.filter((entry) => entry['refused_by'] !== null).length, 8);
  });

  it('traffic overview: the counts of every front door, summed over the steps in the cluster', async () => {
    await sleep(1300); // one flush of the traffic counts
    const mine = await ok('GET', '/v1/overview', limited.key);
    assert.equal(mine['tenant_id'], limited.id);
    assert.equal(mine['totals']['requests'], 13);
    assert.equal(mine['totals']['quota_rejections'], 8);
    const all = await ok('GET', '/v1/overview');
    assert.ok(all['totals']['requests'] > 13, JSON.stringify(all['totals']));
    assert.equal(all['series'].length, 360);
  });

  it('/metrics: Redis up, refusals counted, the completed job seen through the cluster', async () => {
    let text = '';
    await waitUntil(async () => {
      text = (await http('GET', '/metrics', null)).text;
      return /^triage_redis_up 1$/m.test(text) && /^triage_jobs\{state="completed"\} [1-9]/m.test(text);
    }, 10_000, 'the metrics show Redis up and one completed job').catch((error: Error) => { throw new Error(`${error.message}\n${text.split('\n').filter((line) => /redis|triage_jobs/.test(line)).join('\n')}`); });
    assert.match(text, /^triage_quota_rejections_total\{[^}]*\} 8$/m);
    assert.match(text, /^triage_inference_requests_total\{[^}]*model="simple"[^}]*\} \d+$/m);
  });

  it('the keys of one deployment are spread over every master of the cluster', async () => {
    const prefix = keys().prefix;
    const counts: number[] = [];
    for (const master of mastersOf(redis())) {
      let cursor = '0';
      let count = 0;
      do {
        const [next, found] = await master.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        count += found.length;
      } while (cursor !== '0');
      counts.push(count);
    }
    assert.equal(counts.length, 3);
    assert.ok(counts.every((count) => count > 0), `keys per master: ${counts.join(', ')}`);
  });
});
