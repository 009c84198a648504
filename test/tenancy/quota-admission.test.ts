import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'mocha';
import { Redis } from 'ioredis';
import { tenancyScriptSource } from '../../src/tenancy/lua-scripts';
import type { TenancyService } from '../../src/tenancy/tenancy-service';
import { grpcError, TritonTestClient } from '../support/grpc-test-client';
import { float32Buffer, inferRequest, int32Buffer, readFloat32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { rawGrpcCall, serializeInferRequest } from '../support/raw-grpc-call';
import { statsCounts } from '../support/model-statistics';
import { MATMUL_CHAIN, matmulChainConfig, matmulChainModel } from '../support/slow-onnx-model';
import { TempRepository } from '../support/temp-repository';
import { createTestTenant, type TestTenant } from '../support/tenant-setup';
import { sharedRedisUrl } from '../support/test-redis';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

interface InferResponse {
  id: string;
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

const MODEL_INFER = '/inference.GRPCInferenceService/ModelInfer';
const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A ModelInfer request of `batch` rows for the sample `simple` model (max_batch_size 8, INT32 [16] inputs). */
function simpleRequest(batch = 1, id = ''): Record<string, unknown> {
  const rows = batch * 16;
  return inferRequest('simple', [
    { name: 'INPUT0', datatype: 'INT32', shape: [batch, 16], raw: int32Buffer(range(rows, (i) => i)) },
    { name: 'INPUT1', datatype: 'INT32', shape: [batch, 16], raw: int32Buffer(range(rows, () => 1)) },
  ], { id });
}

function identityRequest(): Record<string, unknown> {
  return inferRequest('identity_fp32', [{ name: 'INPUT0', datatype: 'FP32', shape: [4], raw: float32Buffer([1, 2, 3, 4]) }]);
}

/** A well-formed key (trg_<10>_<32>) that was never issued. */
const NEVER_ISSUED = `trg_${'Q'.repeat(10)}_${'z'.repeat(32)}`;

/** The single value of a metadata entry, or undefined. */
function meta(error: ServiceError, name: string): string | undefined {
  const values = error.metadata?.get(name) ?? [];
  return values.length === 0 ? undefined : String(values[0]);
}

/** Polls until `probe` resolves true; returns the milliseconds it took, or fails after timeoutMs. */
async function within(timeoutMs: number, what: string, probe: () => Promise<boolean>): Promise<number> {
  const startMs = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - startMs;
    assert.ok(Date.now() - startMs < timeoutMs, `${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

describe('tenancy: authentication and quota admission on the gRPC and REST ports (one triage, one local-triton)', function () {
  this.timeout(30_000);
  let repository: TempRepository | undefined;
  let triton: LocalTritonFixture | undefined;
  let fixture: TriageFixture | undefined;
  let service: TenancyService;
  const clients: TritonTestClient[] = [];

  before(async () => {
    repository = new TempRepository()
      .copySample('simple', 'identity_fp32')
      .writeModel('slow_priority', matmulChainConfig('slow_priority', 'dynamic_batching { priority_levels: 2 default_priority_level: 2 }'), { 1: { 'model.onnx': matmulChainModel() } });
    triton = await startLocalTritonFixture({ modelRepository: repository.path });
    fixture = await startTriageFixture([triton.address]);
    service = fixture.triage.tenancy.service;
  });
  after(async () => {
    for (const client of clients) client.close();
    await fixture?.stop();
    await triton?.stop();
    repository?.remove();
  });

  /** A client of triage's gRPC port sending `key` (none when null). */
  const clientWith = (key: string | null): TritonTestClient => {
    const client = new TritonTestClient((fixture as TriageFixture).address, undefined, key);
    clients.push(client);
    return client;
  };
  const tenantClient = async (quotas: unknown = {}, scopes: readonly string[] = ['infer']): Promise<{ tenant: TestTenant; client: TritonTestClient }> => {
    const tenant = await createTestTenant(service, { quotas, scopes });
    return { tenant, client: clientWith(tenant.key) };
  };
  const infer = (client: TritonTestClient, request: Record<string, unknown> = simpleRequest(), metadata = new Metadata()): Promise<InferResponse> =>
    client.unary<InferResponse>('ModelInfer', request, { metadata, timeoutMs: 20_000 });
  const restBase = (): string => `http://127.0.0.1:${(fixture as TriageFixture).triage.httpPort}`;
  const restInfer = (model: string, headers: Record<string, string>, body: unknown = {
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: range(16, (i) => i) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: range(16, () => 1) },
    ],
  }): Promise<Response> => fetch(`${restBase()}/v2/models/${model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const restErrorOf = async (response: Response): Promise<string> => ((await response.json()) as { error: string }).error;

  describe('authentication: UNAUTHENTICATED without a valid key', () => {
    it('no key at all', async () => {
      const refused = await grpcError(infer(clientWith(null)));
      assert.equal(refused.code, status.UNAUTHENTICATED);
      assert.match(refused.details, /no API key: send `authorization: Bearer <key>` or `x-api-key: <key>`/);
    });

    it('malformed keys: wrong shape, 10 KB long, non-ASCII (authorization and x-api-key)', async () => {
      const issued = (await tenantClient()).tenant;
      const shapes = [
        'trg_short_secret',
        `trg_${issued.keyId}_${'a'.repeat(31)}`,
        `${issued.key}x`,
        'Basic dXNlcjpwYXNz',
        `trg_${'A'.repeat(10 * 1024)}`,
      ];
      for (const key of shapes) {
        const refused = await grpcError(infer(clientWith(key)));
        assert.equal(refused.code, status.UNAUTHENTICATED, key.slice(0, 40));
        assert.match(refused.details, /malformed API key: expected trg_<key id>_<secret>|no API key/, key.slice(0, 40));
      }
      // grpc-js will not send non-ASCII metadata; a client that does sends UTF-8 bytes.
      const nonAscii = Buffer.from(`trg_${'ä'.repeat(5)}_${'鍵'.repeat(10)}`, 'utf8').toString('latin1');
      const message = serializeInferRequest(simpleRequest());
      for (const headers of [{ authorization: `Bearer ${nonAscii}` }, { 'x-api-key': nonAscii }]) {
        const answer = await rawGrpcCall((fixture as TriageFixture).address, MODEL_INFER, message, headers);
        assert.equal(answer.grpcStatus, status.UNAUTHENTICATED, JSON.stringify(answer));
        assert.match(answer.grpcMessage, /malformed API key/);
      }
      // The issued key itself still works: nothing above disturbed it.
      await infer(clientWith(issued.key));
    });

    it('an unknown key, and a known key id with the wrong secret', async () => {
      const issued = (await tenantClient()).tenant;
      for (const key of [NEVER_ISSUED, `trg_${issued.keyId}_${'x'.repeat(32)}`]) {
        const refused = await grpcError(infer(clientWith(key)));
        assert.equal(refused.code, status.UNAUTHENTICATED);
        assert.equal(refused.details, 'unknown API key');
      }
    });

    it('an expired key (cached while it was valid)', async () => {
      const expiresAt = new Date(Date.now() + 700).toISOString();
      const tenant = await createTestTenant(service, { expiresAt });
      const client = clientWith(tenant.key);
      await infer(client);
      await sleep(Math.max(0, Date.parse(expiresAt) - Date.now()) + 20);
      const refused = await grpcError(infer(client));
      assert.equal(refused.code, status.UNAUTHENTICATED);
      assert.equal(refused.details, `API key ${tenant.keyId} expired at ${expiresAt}`);
    });

    it('a revoked key (cached while it was valid), and x-api-key is read like authorization', async () => {
      const tenant = await createTestTenant(service);
      const client = clientWith(null);
      const byHeader = (): Metadata => {
        const metadata = new Metadata();
        metadata.set('x-api-key', tenant.key);
        return metadata;
      };
      await infer(client, simpleRequest(), byHeader());
      await service.revokeKey(tenant.id, tenant.keyId);
      const tookMs = await within(1000, 'revocation', async () => (await grpcError(infer(client, simpleRequest(), byHeader())).catch(() => null)) !== null);
      const refused = await grpcError(infer(client, simpleRequest(), byHeader()));
      assert.equal(refused.code, status.UNAUTHENTICATED);
      assert.equal(refused.details, `API key ${tenant.keyId} was revoked`);
      assert.ok(tookMs < 1000);
    });
  });

  describe('authorization: PERMISSION_DENIED', () => {
    it('a key without the infer scope', async () => {
      const { client } = await tenantClient({}, ['read']);
      const refused = await grpcError(infer(client));
      assert.equal(refused.code, status.PERMISSION_DENIED);
      assert.equal(refused.details, "this API key lacks the 'infer' scope (it has: read)");
    });

    it('a model outside allowed_models; the allowed one works', async () => {
      const { tenant, client } = await tenantClient({ allowed_models: ['simple'] });
      const refused = await grpcError(infer(client, identityRequest()));
      assert.equal(refused.code, status.PERMISSION_DENIED);
      assert.equal(refused.details, `tenant ${tenant.id} may not use model 'identity_fp32' (allowed_models of its quotas)`);
      await infer(client);
    });

    it('a suspended tenant is refused; once resumed it is served again', async () => {
      const { tenant, client } = await tenantClient();
      await infer(client);
      await service.updateTenant(tenant.id, { status: 'suspended' });
      await within(1000, 'suspension', async () => (await grpcError(infer(client)).catch(() => null)) !== null);
      const refused = await grpcError(infer(client));
      assert.equal(refused.code, status.PERMISSION_DENIED);
      assert.equal(refused.details, `tenant ${tenant.id} is suspended`);
      await service.updateTenant(tenant.id, { status: 'active' });
      await within(1000, 'resumption', async () => infer(client).then(() => true, () => false));
    });
  });

  describe('rate limits, budgets and sizes', () => {
    it('requests_per_second 5 with burst 3: 20 requests at once admit exactly the burst (GCRA)', async () => {
      const { tenant, client } = await tenantClient({ requests_per_second: 5, burst: 3 });
      const startMs = Date.now();
      const outcomes = await Promise.all(range(20, (i) => i).map((i) => infer(client, simpleRequest(1, `r${i}`)).then(() => null, (error: ServiceError) => error)));
      const elapsedMs = Date.now() - startMs;
      const accepted = outcomes.filter((outcome) => outcome === null).length;
      // GCRA, interval T = 200 ms, tolerance = burst x T = 600 ms: a request is admitted while
      // TAT + T - 600 <= now, so from an idle start exactly 3 at once, and one more per 200 ms.
      const most = 3 + Math.floor(elapsedMs / 200);
      assert.ok(accepted >= 3 && accepted <= most, `accepted ${accepted} of 20 in ${elapsedMs} ms`);
      const refusals = outcomes.filter((outcome): outcome is ServiceError => outcome !== null);
      assert.equal(refusals.length, 20 - accepted);
      for (const refused of refusals) {
        assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
        assert.match(refused.details, new RegExp(`^requests_per_second of tenant ${tenant.id} \\(5/s\\) exceeded; retry in \\d+ ms$`));
        const retryAfterMs = Number(meta(refused, 'retry-after-ms'));
        assert.ok(Number.isInteger(retryAfterMs) && retryAfterMs > 0 && retryAfterMs <= 200, `retry-after-ms ${retryAfterMs}`);
        assert.equal(refused.details, `requests_per_second of tenant ${tenant.id} (5/s) exceeded; retry in ${retryAfterMs} ms`);
        assert.equal(meta(refused, 'x-ratelimit-limit'), '3');
        assert.equal(meta(refused, 'x-ratelimit-remaining'), '0');
        const resetMs = Number(meta(refused, 'x-ratelimit-reset'));
        assert.ok(resetMs > retryAfterMs && resetMs <= 600, `x-ratelimit-reset ${resetMs} (retry-after-ms ${retryAfterMs})`);
      }
      // retry-after-ms is honest: waiting that long is enough for one more request, and not for two.
      const last = await grpcError(infer(client));
      await sleep(Number(meta(last, 'retry-after-ms')) + 5);
      await infer(client);
      assert.equal((await grpcError(infer(client))).code, status.RESOURCE_EXHAUSTED);
    });

    it('inferences_per_second counts the batch dimension: a [8,16] request uses 8', async () => {
      const quotas = { inferences_per_second: 8, inference_burst: 8 };
      const big = await tenantClient(quotas);
      await infer(big.client, simpleRequest(8));
      const refused = await grpcError(infer(big.client, simpleRequest(1)));
      assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
      assert.match(refused.details, new RegExp(`^inferences_per_second of tenant ${big.tenant.id} \\(8/s\\) exceeded; retry in \\d+ ms$`));
      assert.equal(meta(refused, 'x-ratelimit-limit'), '8');
      // The same limit admits eight [1,16] requests at once, and refuses the ninth.
      const small = await tenantClient(quotas);
      const outcomes = await Promise.all(range(9, (i) => i).map(() => infer(small.client, simpleRequest(1)).then(() => 'ok', (error: ServiceError) => error.code)));
      assert.equal(outcomes.filter((outcome) => outcome === 'ok').length, 8, outcomes.join(','));
      assert.deepEqual(outcomes.filter((outcome) => outcome !== 'ok'), [status.RESOURCE_EXHAUSTED]);
    });

    it('daily and monthly budgets refuse without retry-after-ms and name the budget', async () => {
      const daily = await tenantClient({ daily_requests: 3 });
      for (let i = 0; i < 3; i++) await infer(daily.client);
      const refused = await grpcError(infer(daily.client));
      assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
      assert.equal(refused.details, `daily_requests of tenant ${daily.tenant.id} (3) is used up; it renews with the next day (UTC)`);
      assert.equal(meta(refused, 'retry-after-ms'), undefined);
      assert.equal(meta(refused, 'x-ratelimit-reset'), undefined);
      assert.equal(meta(refused, 'x-ratelimit-limit'), '3');
      assert.equal(meta(refused, 'x-ratelimit-remaining'), '0');

      const monthly = await tenantClient({ monthly_inferences: 10 });
      await infer(monthly.client, simpleRequest(8));
      const over = await grpcError(infer(monthly.client, simpleRequest(8)));
      assert.equal(over.code, status.RESOURCE_EXHAUSTED);
      assert.equal(over.details, `monthly_inferences of tenant ${monthly.tenant.id} (10) is used up; it renews with the next month (UTC)`);
      assert.equal(meta(over, 'retry-after-ms'), undefined);
      assert.equal(meta(over, 'x-ratelimit-remaining'), '2');
      // The refused request consumed nothing: the 2 left still fit a [2,16] request.
      await infer(monthly.client, simpleRequest(2));
      assert.equal((await grpcError(infer(monthly.client, simpleRequest(1)))).code, status.RESOURCE_EXHAUSTED);
    });

    it('a monthly budget says it renews next month whatever the model is called', async () => {
      // Called on the admission directly (real Redis): local-triton has no model named 'd'.
      const tenant = await createTestTenant(service, { quotas: { models: { d: { monthly_requests: 1 } } } });
      const admission = (fixture as TriageFixture).triage.tenancy.admission;
      const quotas = await service.getQuotas(tenant.id);
      (await admission.admit(tenant.id, quotas, 'd', 1, 10)).release();
      await assert.rejects(Promise.resolve().then(() => admission.admit(tenant.id, quotas, 'd', 1, 10)),
        { message: `monthly_requests of tenant ${tenant.id} for model d (1) is used up; it renews with the next month (UTC)` });
    });

    it('requests of one tenant share script calls: the first goes at once, the rest with the next call once it lands; releases go together', async () => {
      // Watched on Redis itself (MONITOR): every script call and ZREM naming this tenant's keys.
      const tenant = await createTestTenant(service, { quotas: { requests_per_second: 1000, burst: 1000, max_concurrent: 100 } });
      const admission = (fixture as TriageFixture).triage.tenancy.admission;
      const quotas = await service.getQuotas(tenant.id);
      const client = new Redis(await sharedRedisUrl());
      const monitor = await client.monitor();
      const seen: string[][] = [];
      // Admission script calls only: this tenant, busy and far from its limits, also gets credits (credit.lua).
      const admitSha = createHash('sha1').update(tenancyScriptSource('admit')).digest('hex');
      monitor.on('monitor', (_time: string, args: string[]) => {
        const command = String(args[0]).toLowerCase();
        const admitScript = command === 'evalsha' ? args[1] === admitSha : command === 'eval' && String(args[1]) === tenancyScriptSource('admit');
        if (args.some((arg) => arg.includes(tenant.id)) && (admitScript || command === 'zrem')) seen.push(args);
      });
      try {
        // Redis holds writes for a moment, so the first call is surely on its way while the
        // other 19 come, each in a turn of the event loop of its own.
        await client.call('CLIENT', 'PAUSE', '200', 'WRITE');
        const pending = [admission.admit(tenant.id, quotas, 'simple', 1, 10)];
        for (let turn = 0; turn < 19; turn++) {
          await new Promise((resolve) => setImmediate(resolve));
          pending.push(admission.admit(tenant.id, quotas, 'simple', 1, 10));
        }
        const admitted = await Promise.all(pending);
        for (const ticket of admitted) ticket.release();
        await within(2000, 'the releases to reach Redis', async () => seen.some((args) => String(args[0]).toLowerCase() === 'zrem'));
        await sleep(50);
      } finally {
        monitor.disconnect();
        client.disconnect();
      }
      const scripts = seen.filter((args) => String(args[0]).toLowerCase() !== 'zrem');
      // A script call: EVALSHA sha numkeys KEYS... ARGV (lease ttl, N, 5 x N check values, R, R releases, M, 2 x M request values).
      const requestsIn = (args: string[]): number => {
        const argv = args.slice(3 + Number(args[2]));
        const releasesAt = 2 + 5 * Number(argv[1]);
        return Number(argv[releasesAt + 1 + Number(argv[releasesAt])]);
      };
      assert.deepEqual(scripts.map(requestsIn), [1, 19], 'one script call at once, then one with the 19 that came (in 19 turns) while it was on its way');
      // Slots of the tenant's credit (members `<process>:s<n>`) go back on their own when it lapses.
      const callMembers = (args: string[]): string[] => args.slice(2).filter((member) => !/:s\d+$/.test(member));
      const zrems = seen.filter((args) => String(args[0]).toLowerCase() === 'zrem' && callMembers(args).length > 0);
      assert.equal(zrems.length, 1, 'the 20 finished calls give their slots back in one ZREM');
      assert.equal(callMembers(zrems[0] ?? []).length, 20, 'ZREM of the 20 lease members');
    });

    it('max_request_bytes: a message of exactly the limit passes, one byte-row more is refused', async () => {
      const limit = serializeInferRequest(simpleRequest(1)).length;
      const { tenant, client } = await tenantClient({ max_request_bytes: limit });
      await infer(client, simpleRequest(1));
      const bigger = serializeInferRequest(simpleRequest(2)).length;
      const refused = await grpcError(infer(client, simpleRequest(2)));
      assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
      assert.equal(refused.details, `request of ${bigger} bytes exceeds max_request_bytes (${limit}) of tenant ${tenant.id}`);
      assert.equal(meta(refused, 'retry-after-ms'), undefined);
    });

    it('a per-model override limits only that model', async () => {
      const { tenant, client } = await tenantClient({ models: { identity_fp32: { requests_per_second: 1, burst: 1 } } });
      await infer(client, identityRequest());
      const refused = await grpcError(infer(client, identityRequest()));
      assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
      assert.match(refused.details, new RegExp(`^requests_per_second of tenant ${tenant.id} for model identity_fp32 \\(1/s\\) exceeded; retry in \\d+ ms$`));
      const others = await Promise.allSettled(range(20, (i) => i).map(() => infer(client)));
      assert.deepEqual(others.map((outcome) => outcome.status), range(20, () => 0).map(() => 'fulfilled'), 'simple is not limited');
    });

    it('no quotas: no limit', async () => {
      const { client } = await tenantClient();
      const outcomes = await Promise.allSettled(range(60, (i) => i).map(() => infer(client)));
      assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 60);
    });
  });

  describe('admission while the instance is contacted (gRPC)', () => {
    it('a call refused by its quota never runs at the instance, though the instance was contacted while Redis answered', async () => {
      const { tenant, client } = await tenantClient({ requests_per_second: 1, burst: 1 });
      const direct = (triton as LocalTritonFixture).client;
      const before = await statsCounts(direct, 'identity_fp32');
      await infer(client, identityRequest());
      // The first of these is relayed to the instance while Redis decides (nothing of the tenant
      // is on its way to Redis, nothing was refused before); the next ones are admitted first.
      const refusals: ServiceError[] = [];
      for (let call = 0; call < 5; call++) refusals.push(await grpcError(infer(client, identityRequest())));
      for (const refused of refusals) {
        assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
        assert.match(refused.details, new RegExp(`^requests_per_second of tenant ${tenant.id} \\(1/s\\) exceeded; retry in \\d+ ms$`));
      }
      const after = await statsCounts(direct, 'identity_fp32');
      assert.equal(after.inferences - before.inferences, 1, 'only the admitted call ran');
      assert.equal(after.failures - before.failures, 0, 'the refused calls reached no model, not even as failures');
    });

    /** A call whose client gives up (deadline) while Redis is paused, so its admission lands after it left. */
    const leaveDuringAdmission = async (client: TritonTestClient): Promise<void> => {
      const redis = new Redis(await sharedRedisUrl());
      try {
        await redis.call('CLIENT', 'PAUSE', '300', 'WRITE');
        const left = await grpcError(client.unary('ModelInfer', simpleRequest(), { timeoutMs: 50 }));
        assert.equal(left.code, status.DEADLINE_EXCEEDED);
        await sleep(400);
      } finally {
        redis.disconnect();
      }
    };

    it('a client that leaves while Redis answers gives its concurrency slot back (contacted or not)', async () => {
      const { client } = await tenantClient({ max_concurrent: 1 });
      await infer(client);
      await leaveDuringAdmission(client);
      // max_concurrent 1: a slot kept by the call that left would refuse each of these.
      for (let call = 0; call < 3; call++) await infer(client);
      // Refused lately, the tenant's calls are admitted before an instance is contacted: the same holds.
      let refused = 0;
      for (let attempt = 0; attempt < 20 && refused === 0; attempt++) {
        const outcomes = await Promise.allSettled(range(8, (i) => i).map(() => infer(client)));
        refused = outcomes.filter((outcome) => outcome.status === 'rejected').length;
      }
      assert.ok(refused > 0, 'eight parallel calls under max_concurrent 1 saw a refusal');
      await leaveDuringAdmission(client);
      for (let call = 0; call < 3; call++) await infer(client);
    });
  });

  describe('REST: /v2/models/{m}/infer', () => {
    it('401 without a valid key, 403 without the scope or the model', async () => {
      const none = await restInfer('simple', {});
      assert.equal(none.status, 401);
      assert.match(await restErrorOf(none), /no API key/);
      const unknown = await restInfer('simple', { authorization: `Bearer ${NEVER_ISSUED}` });
      assert.equal(unknown.status, 401);
      assert.equal(await restErrorOf(unknown), 'unknown API key');
      const malformed = await restInfer('simple', { 'x-api-key': `trg_${'é'.repeat(40)}` });
      assert.equal(malformed.status, 401);
      assert.match(await restErrorOf(malformed), /malformed API key/);
      const readOnly = await createTestTenant(service, { scopes: ['read'] });
      const noScope = await restInfer('simple', { authorization: `Bearer ${readOnly.key}` });
      assert.equal(noScope.status, 403);
      assert.equal(await restErrorOf(noScope), "this API key lacks the 'infer' scope (it has: read)");
      const limited = await createTestTenant(service, { quotas: { allowed_models: ['identity_fp32'] } });
      const notAllowed = await restInfer('simple', { authorization: `Bearer ${limited.key}` });
      assert.equal(notAllowed.status, 403);
      assert.equal(await restErrorOf(notAllowed), `tenant ${limited.id} may not use model 'simple' (allowed_models of its quotas)`);
    });

    it('429 with Retry-After, retry-after-ms and x-ratelimit-* over a rate; 429 without retry over a budget', async () => {
      const rated = await createTestTenant(service, { quotas: { requests_per_second: 1, burst: 2 } });
      const headers = { authorization: `Bearer ${rated.key}` };
      assert.equal((await restInfer('simple', headers)).status, 200);
      assert.equal((await restInfer('simple', headers)).status, 200);
      const refused = await restInfer('simple', headers);
      assert.equal(refused.status, 429);
      assert.match(await restErrorOf(refused), new RegExp(`^requests_per_second of tenant ${rated.id} \\(1/s\\) exceeded; retry in \\d+ ms$`));
      const retryAfterMs = Number(refused.headers.get('retry-after-ms'));
      assert.ok(retryAfterMs > 0 && retryAfterMs <= 1000, `retry-after-ms ${retryAfterMs}`);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(refused.headers.get('x-ratelimit-limit'), '2');
      assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
      assert.ok(Number(refused.headers.get('x-ratelimit-reset')) > retryAfterMs);

      const budgeted = await createTestTenant(service, { quotas: { daily_requests: 1 } });
      const budgetHeaders = { 'x-api-key': budgeted.key };
      assert.equal((await restInfer('simple', budgetHeaders)).status, 200);
      const spent = await restInfer('simple', budgetHeaders);
      assert.equal(spent.status, 429);
      assert.equal(await restErrorOf(spent), `daily_requests of tenant ${budgeted.id} (1) is used up; it renews with the next day (UTC)`);
      assert.equal(spent.headers.get('retry-after'), null);
      assert.equal(spent.headers.get('retry-after-ms'), null);
      assert.equal(spent.headers.get('x-ratelimit-limit'), '1');
    });
  });

  describe("the tenant's priority reaches Triton", () => {
    const pending = (): number => (triton as LocalTritonFixture).server.models.resolve('slow_priority', '').scheduler.pendingCount;
    const waitForPending = async (count: number, why: string): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (pending() !== count) {
        assert.ok(Date.now() < deadline, `expected ${count} pending requests (${why}), have ${pending()}`);
        await sleep(2);
      }
    };
    const matmul = (client: TritonTestClient, side: number, value: number, extra: Record<string, unknown> = {}): Promise<InferResponse> => {
      const data = side === 1 ? float32Buffer([value]) : Buffer.alloc(side * side * 4);
      return infer(client, inferRequest('slow_priority', [{ name: 'X', datatype: 'FP32', shape: [1, side, side], raw: data }], extra));
    };

    it('a priority-1 tenant\'s request queued last runs before a priority-2 tenant\'s requests queued earlier (even one that asks for priority 1)', async () => {
      const direct = (triton as LocalTritonFixture).client;
      // Size the blocker for ~700 ms of compute on this machine.
      const startedMs = Date.now();
      await matmul(direct, 384, 0);
      const elapsedMs = Math.max(1, Date.now() - startedMs);
      const blockerSide = Math.min(2048, Math.max(384, Math.round((384 * Math.cbrt(700 / elapsedMs)) / 64) * 64));

      // With a rate limit the high tenant's calls are admitted in Redis while the instance is
      // already contacted (the priority goes after the held-back end of the message); the low
      // tenant has no limit to check.
      const high = await tenantClient({ priority: 1, requests_per_second: 1000, burst: 1000 });
      const low = await tenantClient({ priority: 2 });
      assert.equal(pending(), 0);
      const blocker = matmul(direct, blockerSide, 0);
      await waitForPending(1, 'the blocker is executing');
      const completed: string[] = [];
      const calls = new Map<string, [number, Promise<InferResponse>]>();
      const enqueue = (client: TritonTestClient, id: string, value: number, extra: Record<string, unknown>): void => {
        const call = matmul(client, 1, value, { id, ...extra });
        void call.then(() => completed.push(id), () => completed.push(`${id} failed`));
        calls.set(id, [value, call]);
      };
      enqueue(low.client, 'low-a', 2, {});
      await waitForPending(2, 'one low request queued');
      // The client asks for level 1 itself: the tenant's priority (appended by triage) wins.
      enqueue(low.client, 'low-b', 0.5, { parameters: { priority: { uint64_param: 1 } } });
      await waitForPending(3, 'two low requests queued');
      enqueue(high.client, 'high', -1, {});
      await waitForPending(4, 'all three queued behind the blocker');
      await blocker;
      for (const [id, [value, call]] of calls) {
        const response = await call;
        assert.equal(response.id, id);
        assert.deepEqual(readFloat32(response.raw_output_contents[0] as Buffer), [value ** (MATMUL_CHAIN + 1)], id);
      }
      assert.equal(completed[0], 'high', `completion order ${completed.join(', ')}`);
      assert.deepEqual(new Set(completed.slice(1)), new Set(['low-a', 'low-b']));
    });

    it('the same on REST: the tenant\'s priority replaces the one in the JSON request', async () => {
      const direct = (triton as LocalTritonFixture).client;
      const startedMs = Date.now();
      await matmul(direct, 384, 0);
      const blockerSide = Math.min(2048, Math.max(384, Math.round((384 * Math.cbrt(700 / Math.max(1, Date.now() - startedMs))) / 64) * 64));
      const high = await createTestTenant(service, { quotas: { priority: 1 } });
      const low = await createTestTenant(service, { quotas: { priority: 2 } });
      const restMatmul = (key: string, id: string, value: number, parameters: Record<string, unknown>): Promise<Response> =>
        restInfer('slow_priority', { authorization: `Bearer ${key}` }, { id, parameters, inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 1, 1], data: [value] }] });
      assert.equal(pending(), 0);
      const blocker = matmul(direct, blockerSide, 0);
      await waitForPending(1, 'the blocker is executing');
      const completed: string[] = [];
      const calls: [string, number, Promise<Response>][] = [];
      const enqueue = (key: string, id: string, value: number, parameters: Record<string, unknown>): void => {
        const call = restMatmul(key, id, value, parameters);
        void call.then(() => completed.push(id), () => completed.push(`${id} failed`));
        calls.push([id, value, call]);
      };
      enqueue(low.key, 'low-a', 2, {});
      await waitForPending(2, 'one low request queued');
      enqueue(low.key, 'low-b', 0.5, { priority: 1 });
      await waitForPending(3, 'two low requests queued');
      enqueue(high.key, 'high', -1, {});
      await waitForPending(4, 'all three queued behind the blocker');
      await blocker;
      for (const [id, value, call] of calls) {
        const response = await call;
        assert.equal(response.status, 200, id);
        const body = (await response.json()) as { id: string; outputs: { data: number[] }[] };
        assert.equal(body.id, id);
        assert.deepEqual(body.outputs[0]?.data, [value ** (MATMUL_CHAIN + 1)], id);
      }
      assert.equal(completed[0], 'high', `completion order ${completed.join(', ')}`);
    });
  });

  describe('usage metering', () => {
    /** ModelInfer with the response kept as bytes, to know exactly what came back. */
    const rawInfer = (client: TritonTestClient, request: Record<string, unknown>): Promise<Buffer> => new Promise((resolve, reject) => {
      client.inference.makeUnaryRequest(MODEL_INFER, (value: Record<string, unknown>) => serializeInferRequest(value), (bytes: Buffer) => bytes,
        request, client.withKey(), { deadline: Date.now() + 20_000 }, (error, value) => (error === null || error === undefined ? resolve(value as Buffer) : reject(error)));
    });

    it('requests, inferences, bytes in and out, errors and latency per tenant, model and day; refusals are not billed', async () => {
      const { tenant, client } = await tenantClient({ daily_requests: 7 });
      const startMs = Date.now();
      let bytesIn = 0;
      let bytesOut = 0;
      // Five answered requests of 1, 2, 3, 1 and 2 rows.
      for (const batch of [1, 2, 3, 1, 2]) {
        const request = simpleRequest(batch);
        bytesIn += serializeInferRequest(request).length + 5;
        bytesOut += (await rawInfer(client, request)).length + 5;
      }
      // Two the instance rejects (INPUT1 has the wrong shape): admitted, forwarded, failed.
      for (let i = 0; i < 2; i++) {
        const request = inferRequest('simple', [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(range(16, () => 0)) },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 15], raw: int32Buffer(range(15, () => 0)) },
        ]);
        bytesIn += serializeInferRequest(request).length + 5;
        assert.equal((await grpcError(rawInfer(client, request))).code, status.INVALID_ARGUMENT);
      }
      // The budget is used up: this one never reaches an instance.
      assert.equal((await grpcError(rawInfer(client, simpleRequest(4)))).code, status.RESOURCE_EXHAUSTED);
      const wallMs = Date.now() - startMs;
      const day = new Date().toISOString().slice(0, 10);
      const rows = async (): Promise<Awaited<ReturnType<TenancyService['usage']>>> => service.usage([tenant.id], day, day);
      await within(3000, 'usage flushed', async () => ((await rows())[0]?.requests ?? 0) >= 7);
      await sleep(300);
      const [row, ...others] = await rows();
      assert.deepEqual(others, []);
      assert.ok(row !== undefined);
      const { latency_ms: latencyMs, ...counts } = row;
      assert.deepEqual(counts, { tenant_id: tenant.id, model: 'simple', day, requests: 7, inferences: 11, bytes_in: bytesIn, bytes_out: bytesOut, errors: 2 });
      assert.ok(latencyMs >= 0 && latencyMs <= wallMs, `latency_ms ${latencyMs} (wall ${wallMs} ms)`);
    });

    it('REST calls are metered the same way (bytes are the HTTP bodies); refusals are not billed', async () => {
      const tenant = await createTestTenant(service, { quotas: { daily_requests: 2 } });
      const headers = { authorization: `Bearer ${tenant.key}` };
      let bytesIn = 0;
      let bytesOut = 0;
      for (const batch of [3, 1]) {
        const body = { inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [batch, 16], data: range(batch * 16, (i) => i) })) };
        bytesIn += Buffer.byteLength(JSON.stringify(body));
        const response = await restInfer('simple', headers, body);
        assert.equal(response.status, 200);
        bytesOut += (await response.arrayBuffer()).byteLength;
      }
      assert.equal((await restInfer('simple', headers)).status, 429);
      const day = new Date().toISOString().slice(0, 10);
      await within(3000, 'usage flushed', async () => ((await service.usage([tenant.id], day, day))[0]?.requests ?? 0) >= 2);
      await sleep(300);
      const [row, ...others] = await service.usage([tenant.id], day, day);
      assert.deepEqual(others, []);
      assert.ok(row !== undefined);
      const { latency_ms: _latency, ...counts } = row;
      assert.deepEqual(counts, { tenant_id: tenant.id, model: 'simple', day, requests: 2, inferences: 4, bytes_in: bytesIn, bytes_out: bytesOut, errors: 0 });
    });
  });
});
