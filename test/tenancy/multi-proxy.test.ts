import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { silentLogger } from '../../src/observability/logger';
import { startRedisServer, type RedisServerProcess } from '../../src/redis/redis-server-process';
import { startTenancy, type Tenancy } from '../../src/tenancy/tenancy';
import { grpcError, TritonTestClient } from '../support/grpc-test-client';
import { float32Buffer, inferRequest } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { statsCounts } from '../support/model-statistics';
import { pacedLoad } from '../support/paced-load';
import { TempRepository } from '../support/temp-repository';
import { createTestTenant, type TestTenant } from '../support/tenant-setup';
import { sharedRedisUrl, TEST_ADMIN_KEY, uniquePrefix } from '../support/test-redis';
import { spawnTriage, type TriageProcess } from '../support/triage-process';

const LEASE_TTL_MS = 2000;
/** slow_identity keeps every request queued this long at the backend (dynamic batching, no preferred size). */
const SLOW_DELAY_MS = 100;
/** long_identity: a call that stays in flight long enough to SIGKILL the proxy under it. */
const LONG_DELAY_MS = 4000;

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function identityConfig(name: string, delayUs: number): string {
  return `name: "${name}"
backend: "identity"
max_batch_size: 128
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
dynamic_batching { max_queue_delay_microseconds: ${delayUs} }
`;
}

function identityRequest(model: string): Record<string, unknown> {
  const fast = model === 'identity_fp32';
  return inferRequest(model, [{ name: 'INPUT0', datatype: 'FP32', shape: fast ? [4] : [1, 4], raw: float32Buffer([1, 2, 3, 4]) }]);
}

/** Starts `count` proxies at once; if any fails to start, the others are stopped before the error is thrown. */
async function spawnProxies(count: number, tritonUrls: readonly string[], redisUrl: string, redisPrefix: string): Promise<TriageProcess[]> {
  const started = await Promise.allSettled(range(count).map(() => spawnTriage({ tritonUrls, redisUrl, redisPrefix, leaseTtlMs: LEASE_TTL_MS })));
  const proxies = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const failure = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(proxies.map((proxy) => proxy.kill()));
    throw failure.reason;
  }
  return proxies;
}

async function startTestTenancy(redisUrl: string, redisPrefix: string): Promise<Tenancy> {
  return startTenancy({
    redisUrl,
    redisPrefix,
    adminKey: TEST_ADMIN_KEY,
    leaseTtlMs: LEASE_TTL_MS,
    redisDown: { rate: 'open', concurrency: 'open', budget: 'closed' },
    keyCacheTtlMs: 30_000,
    usageFlushMs: 1000,
    processId: `test:${process.pid}`,
  }, silentLogger());
}

describe('tenancy: three proxy processes sharing one Redis', function () {
  this.timeout(60_000);
  let repository: TempRepository | undefined;
  let triton: LocalTritonFixture | undefined;
  let tenancy: Tenancy | undefined;
  let proxies: TriageProcess[] = [];
  const clients: TritonTestClient[] = [];

  before(async () => {
    repository = new TempRepository()
      .copySample('identity_fp32')
      .writeModel('slow_identity', identityConfig('slow_identity', SLOW_DELAY_MS * 1000))
      .writeModel('long_identity', identityConfig('long_identity', LONG_DELAY_MS * 1000));
    triton = await startLocalTritonFixture({ modelRepository: repository.path });
    const redisUrl = await sharedRedisUrl();
    const prefix = uniquePrefix();
    tenancy = await startTestTenancy(redisUrl, prefix);
    proxies = await spawnProxies(3, [triton.address], redisUrl, prefix);
  });
  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(proxies.map((proxy) => proxy.stop()));
    await tenancy?.stop();
    await triton?.stop();
    repository?.remove();
  });

  const service = (): Tenancy['service'] => (tenancy as Tenancy).service;
  /** One client per proxy, each sending the tenant's key. */
  const clientsFor = (tenant: TestTenant, of: readonly TriageProcess[] = proxies): TritonTestClient[] => of.map((proxy) => {
    const client = new TritonTestClient(proxy.address, undefined, tenant.key);
    clients.push(client);
    return client;
  });
  const infer = (client: TritonTestClient, model = 'identity_fp32', timeoutMs = 10_000): Promise<unknown> =>
    client.unary('ModelInfer', identityRequest(model), { metadata: new Metadata(), timeoutMs });
  /** Authenticates on every proxy (caching the key there) and connects, without consuming any quota. */
  const warm = (of: readonly TritonTestClient[]): Promise<unknown> =>
    Promise.all(of.map((client) => client.unary('ModelMetadata', { name: 'identity_fp32', version: '' }, { timeoutMs: 10_000 })));
  const scheduler = (model: string) => (triton as LocalTritonFixture).server.models.resolve(model, '').scheduler;

  it('rate: 50 requests/s with burst 10, 200 requests/s offered for 10 s across the three: about 510 accepted', async function () {
    this.timeout(40_000);
    const tenant = await createTestTenant(service(), { quotas: { requests_per_second: 50, burst: 10 } });
    const perProxy = clientsFor(tenant);
    await warm(perProxy);
    const load = await pacedLoad(200, 10_000, (index) => {
      const client = perProxy[index % 3] as TritonTestClient;
      return infer(client, 'identity_fp32', 5_000).then(() => 'ok' as const, (error: ServiceError) => error);
    });
    const accepted = load.calls.filter((call) => call.outcome === 'ok');
    const refused = load.calls.filter((call) => call.outcome !== 'ok').map((call) => call.outcome as ServiceError);
    const acceptedPerProxy = range(3).map((proxy) => accepted.filter((call) => call.index % 3 === proxy).length);
    console.log(`      figures: ${accepted.length} of ${load.calls.length} accepted (target 510 +/- 25.5), per proxy ${acceptedPerProxy.join('/')}; `
      + `generator span ${Math.round(load.spanMs)} ms, largest lag ${Math.round(load.maxLagMs)} ms`);
    assert.equal(load.calls.length, 2000);
    const unexpected = refused.filter((error) => error.code !== status.RESOURCE_EXHAUSTED);
    assert.deepEqual(unexpected.map((error) => `${error.code} ${error.details}`), [], 'every refusal is RESOURCE_EXHAUSTED');
    for (const error of refused) assert.match(error.details, new RegExp(`^requests_per_second of tenant ${tenant.id} \\(50/s\\) exceeded; retry in \\d+ ms$`));
    assert.ok(Math.abs(accepted.length - 510) <= 510 * 0.05, `accepted ${accepted.length}, expected 510 +/- 5%`);
    for (const count of acceptedPerProxy) assert.ok(count > 100, `every proxy admitted its share: ${acceptedPerProxy.join('/')}`);
  });

  it('concurrency: max_concurrent 4 under 64 parallel callers across the three is never exceeded at the backend', async function () {
    this.timeout(40_000);
    const tenant = await createTestTenant(service(), { quotas: { max_concurrent: 4 } });
    const perProxy = clientsFor(tenant);
    await warm(perProxy);
    const model = scheduler('slow_identity');
    const before = await statsCounts((triton as LocalTritonFixture).client, 'slow_identity');
    // Sampled at the backend: requests waiting in slow_identity's queue plus batches executing.
    // A batch never fills (max_batch_size 128 > 64 callers), so every request stays queued until
    // the oldest one has waited SLOW_DELAY_MS: requests are visible there for tens of milliseconds
    // and a fifth one at once, which would recur batch after batch, cannot hide between samples
    // taken every ~1-2 ms. (The identity backend executes within one turn of the event loop, so no
    // sample falls inside an execution, where a batch would count once.) Only this tenant uses the model.
    let maxSeen = 0;
    let samples = 0;
    const sampler = setInterval(() => {
      samples += 1;
      maxSeen = Math.max(maxSeen, model.pendingCount);
    }, 1);
    let refusals = 0;
    const wrongRefusals: string[] = [];
    const failures: string[] = [];
    const startMs = Date.now();
    const caller = async (index: number): Promise<boolean> => {
      const client = perProxy[index % 3] as TritonTestClient;
      while (Date.now() - startMs < 30_000) {
        try {
          await infer(client, 'slow_identity');
          return true;
        } catch (error) {
          const failure = error as ServiceError;
          if (failure.code !== status.RESOURCE_EXHAUSTED) {
            failures.push(`${failure.code} ${failure.details}`);
            return false;
          }
          refusals += 1;
          const retryAfterMs = Number(failure.metadata.get('retry-after-ms')[0]);
          const figures = ['x-ratelimit-limit', 'x-ratelimit-remaining'].map((name) => String(failure.metadata.get(name)[0]));
          if (!new RegExp(`^max_concurrent of tenant ${tenant.id} \\(4\\) reached; retry in ${retryAfterMs} ms$`).test(failure.details)
            || !(retryAfterMs > 0 && retryAfterMs <= 1000) || figures.join('/') !== '4/0') {
            wrongRefusals.push(`${failure.details} retry-after-ms ${retryAfterMs} x-ratelimit-limit/remaining ${figures.join('/')}`);
          }
          await sleep(20 + Math.random() * 60);
        }
      }
      return false;
    };
    let completed: boolean[];
    try {
      completed = await Promise.all(range(64).map(caller));
    } finally {
      clearInterval(sampler);
    }
    const elapsedMs = Date.now() - startMs;
    const after = await statsCounts((triton as LocalTritonFixture).client, 'slow_identity');
    console.log(`      figures: most requests of the tenant at the backend at once ${maxSeen} (${samples} samples); `
      + `64 calls done in ${elapsedMs} ms, ${refusals} refusals on the way`);
    assert.deepEqual(failures, []);
    assert.deepEqual(wrongRefusals, []);
    assert.equal(completed.filter(Boolean).length, 64, 'every caller got its answer');
    assert.equal(after.inferences - before.inferences, 64, 'the backend ran exactly the 64 requests');
    assert.ok(maxSeen <= 4, `the backend held ${maxSeen} of the tenant's requests at once`);
    assert.equal(maxSeen, 4, 'the limit was reached (the load did press against it)');

    // The instrument can see more than 4: 16 callers of a tenant without a limit are all seen there at once.
    const unlimited = clientsFor(await createTestTenant(service()));
    let controlSeen = 0;
    const control = setInterval(() => { controlSeen = Math.max(controlSeen, model.pendingCount); }, 1);
    try {
      await Promise.all(range(16).map((index) => infer(unlimited[index % 3] as TritonTestClient, 'slow_identity')));
    } finally {
      clearInterval(control);
    }
    console.log(`      figures: control without a limit, 16 callers: ${controlSeen} at the backend at once`);
    assert.ok(controlSeen > 4, `without the limit the sampler saw ${controlSeen}`);
  });

  it('revocation: a revoked key is refused by every proxy within 1 s', async () => {
    const tenant = await createTestTenant(service());
    const perProxy = clientsFor(tenant);
    await Promise.all(perProxy.map((client) => infer(client)));
    const revokedAtMs = Date.now();
    await service().revokeKey(tenant.id, tenant.keyId);
    const latencies = await Promise.all(perProxy.map(async (client) => {
      for (;;) {
        const outcome = await infer(client).then(() => null, (error: ServiceError) => error);
        const now = Date.now();
        if (outcome !== null) {
          assert.equal(outcome.code, status.UNAUTHENTICATED);
          assert.equal(outcome.details, `API key ${tenant.keyId} was revoked`);
          return now - revokedAtMs;
        }
        if (now - revokedAtMs > 5_000) return Infinity;
      }
    }));
    console.log(`      figures: refused by the three proxies ${latencies.map((ms) => `${ms} ms`).join(', ')} after the revocation began`);
    for (const latency of latencies) assert.ok(latency < 1000, `refused after ${latency} ms`);
    // And it stays refused everywhere.
    for (const client of perProxy) assert.equal((await grpcError(infer(client))).code, status.UNAUTHENTICATED);
  });

  it('lease recovery: after SIGKILL of a proxy holding both leases, the tenant regains its concurrency once they expire', async () => {
    const tenant = await createTestTenant(service(), { quotas: { max_concurrent: 2 } });
    const [onP1, onP2, onP3] = clientsFor(tenant) as [TritonTestClient, TritonTestClient, TritonTestClient];
    await warm([onP1, onP2, onP3]);
    const long = scheduler('long_identity');
    const inFlight = [infer(onP1, 'long_identity', 20_000), infer(onP1, 'long_identity', 20_000)].map((call) => call.then(() => 'answered', (error: ServiceError) => error.code));
    for (const deadline = Date.now() + 5_000; long.pendingCount < 2;) {
      assert.ok(Date.now() < deadline, 'both long calls reached the backend');
      await sleep(5);
    }
    const killedAtMs = Date.now();
    await (proxies[0] as TriageProcess).kill();
    const refused = await grpcError(infer(onP2));
    assert.equal(refused.code, status.RESOURCE_EXHAUSTED, 'the dead proxy\'s leases still count');
    assert.match(refused.details, new RegExp(`^max_concurrent of tenant ${tenant.id} \\(2\\) reached; retry in \\d+ ms$`));
    let refusedWhileHeld = 1;
    let recoveredMs = Infinity;
    for (;;) {
      const outcome = await infer(onP2).then(() => null, (error: ServiceError) => error);
      if (outcome === null) {
        recoveredMs = Date.now() - killedAtMs;
        break;
      }
      assert.equal(outcome.code, status.RESOURCE_EXHAUSTED, outcome.details);
      refusedWhileHeld += 1;
      if (Date.now() - killedAtMs > LEASE_TTL_MS + 3_000) break;
      await sleep(25);
    }
    console.log(`      figures: calls refused for ${recoveredMs} ms after the SIGKILL (${refusedWhileHeld} refusals), lease TTL ${LEASE_TTL_MS} ms`);
    // Leases are renewed every TTL/3: the last renewal was at most TTL/3 before the kill.
    assert.ok(recoveredMs >= LEASE_TTL_MS - LEASE_TTL_MS / 3 - 100 && recoveredMs <= LEASE_TTL_MS + 300, `recovered ${recoveredMs} ms after the kill`);
    // Full concurrency again: two parallel calls through two proxies hold both slots, a third is refused.
    const slow = scheduler('slow_identity');
    const pair = [infer(onP2, 'slow_identity'), infer(onP3, 'slow_identity')];
    for (const deadline = Date.now() + 5_000; slow.pendingCount < 2;) {
      assert.ok(Date.now() < deadline, 'both parallel calls reached the backend');
      await sleep(2);
    }
    assert.equal((await grpcError(infer(onP3))).code, status.RESOURCE_EXHAUSTED);
    await Promise.all(pair);
    assert.deepEqual(await Promise.all(inFlight), [status.UNAVAILABLE, status.UNAVAILABLE], 'the killed proxy\'s calls failed');
  });

  describe('Redis stopped and restarted (a dedicated redis-server)', () => {
    let directory: string | undefined;
    let redis: RedisServerProcess | undefined;
    let ownTenancy: Tenancy | undefined;
    let ownProxies: TriageProcess[] = [];

    before(async () => {
      directory = mkdtempSync(join(tmpdir(), 'triage-test-redis-down-'));
      redis = await startRedisServer({ directory, appendOnly: true });
      const prefix = uniquePrefix();
      ownTenancy = await startTestTenancy(redis.url, prefix);
      ownProxies = await spawnProxies(3, [(triton as LocalTritonFixture).address], redis.url, prefix);
    });
    after(async () => {
      await Promise.all(ownProxies.map((proxy) => proxy.stop()));
      await ownTenancy?.stop();
      await redis?.stop();
      if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
    });

    it('budgets fail closed with UNAVAILABLE saying why; rate-only tenants pass; service resumes when Redis is back', async () => {
      const tenancyHere = ownTenancy as Tenancy;
      const budgeted = await createTestTenant(tenancyHere.service, { quotas: { daily_requests: 1_000 } });
      const rated = await createTestTenant(tenancyHere.service, { quotas: { requests_per_second: 1_000, burst: 1_000 } });
      const budgetedClients = clientsFor(budgeted, ownProxies);
      const ratedClients = clientsFor(rated, ownProxies);
      await Promise.all([...budgetedClients, ...ratedClients].map((client) => infer(client)));

      const server = redis as RedisServerProcess;
      await server.stop();
      for (const client of budgetedClients) {
        const refused = await grpcError(infer(client));
        assert.equal(refused.code, status.UNAVAILABLE, refused.details);
        assert.match(refused.details, /^quota store \(Redis\) unreachable \(.+\); budget limits fail closed \(--quota-redis-down\)$/);
      }
      for (const client of ratedClients) await infer(client);

      const restartedAtMs = Date.now();
      redis = await startRedisServer({ directory: directory as string, appendOnly: true, port: server.port });
      const resumedMs = await Promise.all(budgetedClients.map(async (client) => {
        for (;;) {
          const outcome = await infer(client).then(() => null, (error: ServiceError) => error);
          if (outcome === null) return Date.now() - restartedAtMs;
          assert.equal(outcome.code, status.UNAVAILABLE, outcome.details);
          if (Date.now() - restartedAtMs > 10_000) return Infinity;
          await sleep(50);
        }
      }));
      console.log(`      figures: budgeted calls served again ${resumedMs.map((ms) => `${ms} ms`).join(', ')} after redis-server was restarted`);
      for (const ms of resumedMs) assert.ok(ms < 5_000, `resumed after ${ms} ms`);
      for (const client of ratedClients) await infer(client);
    });
  });
});
