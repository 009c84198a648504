import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { TriageError } from '../../src/errors/triage-error';
import { parseTenantQuotas } from '../../src/tenancy/quota-config';
import type { TenancyService } from '../../src/tenancy/tenancy-service';
import { grpcError, TritonTestClient } from '../support/grpc-test-client';
import { float32Buffer, inferRequest } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';
import { createTestTenant } from '../support/tenant-setup';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const identityRequest = (): Record<string, unknown> =>
  inferRequest('identity_fp32', [{ name: 'INPUT0', datatype: 'FP32', shape: [4], raw: float32Buffer([1, 2, 3, 4]) }]);

/** The TriageError a call throws (sync or async); fails when it does not throw one. */
async function triageErrorOf(call: () => unknown): Promise<TriageError> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof TriageError, `expected a TriageError, got ${String(error)}`);
    return error;
  }
  throw new Error('the call succeeded but was expected to fail');
}

/** Quotas documents that must be refused, each with the start of the message (which names the field). */
const BAD_QUOTAS: readonly [string, unknown, RegExp][] = [
  ['negative rate', { requests_per_second: -1 }, /^requests_per_second must be greater than 0 and at most 1000000, got -1$/],
  ['zero rate', { requests_per_second: 0 }, /^requests_per_second must be greater than 0/],
  ['absurd rate', { requests_per_second: 1e30 }, /^requests_per_second must be greater than 0 and at most 1000000, got 1e\+30$/],
  ['rate as a string', { requests_per_second: '5' }, /^requests_per_second must be a number of requests per second, got the string "5"$/],
  ['rate not finite', { inferences_per_second: Number.POSITIVE_INFINITY }, /^inferences_per_second must be a number/],
  ['negative inference rate', { inferences_per_second: -0.5 }, /^inferences_per_second must be greater than 0/],
  ['zero burst', { requests_per_second: 5, burst: 0 }, /^burst must be between 1 and 1000000000000, got 0$/],
  ['fractional burst', { requests_per_second: 5, burst: 2.5 }, /^burst must be an integer, got number 2.5$/],
  ['fractional inference burst', { inference_burst: 0.1 }, /^inference_burst must be an integer/],
  ['zero concurrency', { max_concurrent: 0 }, /^max_concurrent must be between 1 and/],
  ['concurrency as a boolean', { max_concurrent: true }, /^max_concurrent must be an integer, got boolean true$/],
  ['negative budget', { daily_requests: -1 }, /^daily_requests must be between 0 and 1000000000000, got -1$/],
  ['absurd budget', { monthly_requests: 1e30 }, /^monthly_requests must be between 0 and 1000000000000, got 1e\+30$/],
  ['fractional budget', { daily_inferences: 0.5 }, /^daily_inferences must be an integer, got number 0.5$/],
  ['budget as an array', { monthly_inferences: [1] }, /^monthly_inferences must be an integer, got an array$/],
  ['budget as an object', { monthly_inferences: {} }, /^monthly_inferences must be an integer, got object \{\}$/],
  ['zero request bytes', { max_request_bytes: 0 }, /^max_request_bytes must be between 1 and 2147483647, got 0$/],
  ['absurd request bytes', { max_request_bytes: 1e30 }, /^max_request_bytes must be between 1 and 2147483647/],
  ['negative priority', { priority: -1 }, /^priority must be between 0 and 1000000, got -1$/],
  ['fractional priority', { priority: 1.5 }, /^priority must be an integer/],
  ['priority as a word', { priority: 'high' }, /^priority must be an integer, got the string "high"$/],
  ['allowed_models as a string', { allowed_models: 'simple' }, /^allowed_models must be a list of model names or "all", got the string "simple"$/],
  ['allowed_models with a number', { allowed_models: ['simple', 1] }, /^allowed_models\[1\] must be a model name/],
  ['allowed_models with a path', { allowed_models: ['../etc/passwd'] }, /^allowed_models\[0\] must be a model name/],
  ['models as a list', { models: [] }, /^models must be a JSON object, got an array$/],
  ['a model\'s limits as a number', { models: { simple: 5 } }, /^models\.simple must be a JSON object, got number 5$/],
  ['a model name that is not one', { models: { 'bad name!': { max_concurrent: 1 } } }, /^models\.bad name! must be a model name/],
  ['a per-model field that is tenant-wide', { models: { simple: { priority: 1 } } }, /^models\.simple\.priority is not a per-model limit \(known: /],
  ['a negative per-model limit', { models: { simple: { burst: -1 } } }, /^models\.simple\.burst must be between 1 and/],
  ['an unknown field (a typo)', { request_per_second: 5 }, /^request_per_second is not a quota field \(known: requests_per_second, /],
  ['an unknown field next to good ones', { requests_per_second: 5, tier: 'gold' }, /^tier is not a quota field/],
  ['not an object', null, /^quotas must be a JSON object, got null$/],
  ['a list', [], /^quotas must be a JSON object, got an array$/],
  ['a string', 'rps=5', /^quotas must be a JSON object, got the string "rps=5"$/],
];

describe('tenancy: bad input gets a clear error and changes nothing', function () {
  this.timeout(30_000);
  let repository: TempRepository | undefined;
  let triton: LocalTritonFixture | undefined;
  let fixture: TriageFixture | undefined;
  let service: TenancyService;
  const clients: TritonTestClient[] = [];

  before(async () => {
    repository = new TempRepository().copySample('identity_fp32');
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

  const newClient = (key: string | null): TritonTestClient => {
    const client = new TritonTestClient((fixture as TriageFixture).address, undefined, key);
    clients.push(client);
    return client;
  };
  const infer = (client: TritonTestClient, metadata = new Metadata()): Promise<unknown> =>
    client.unary('ModelInfer', identityRequest(), { metadata, timeoutMs: 10_000 });

  describe('huge headers', () => {
    const METADATA_LIMIT = /^request metadata of \d+ bytes exceeds triage's limit of 16384 bytes/;

    it('100 KB of metadata in 100 entries, and 1000 small entries: RESOURCE_EXHAUSTED naming the limit; the proxy keeps serving', async () => {
      const tenant = await createTestTenant(service);
      const client = newClient(tenant.key);
      const wide = new Metadata();
      for (let i = 0; i < 100; i++) wide.set(`x-wide-${i}`, 'v'.repeat(1000));
      const many = new Metadata();
      for (let i = 0; i < 1000; i++) many.set(`x-many-${i}`, 'v');
      // 10 KB of metadata is within the limit, and is forwarded.
      const fits = new Metadata();
      for (let i = 0; i < 10; i++) fits.set(`x-fits-${i}`, 'v'.repeat(1000));
      await infer(client, fits);
      for (const metadata of [wide, many]) {
        const refused = await grpcError(infer(client, metadata));
        assert.equal(refused.code, status.RESOURCE_EXHAUSTED, refused.details);
        assert.match(refused.details, METADATA_LIMIT);
        await infer(client);
      }
    });

    it('a 60 KB authorization header: RESOURCE_EXHAUSTED naming the limit, before any key lookup', async () => {
      const client = newClient(`trg_${'A'.repeat(60 * 1024)}`);
      const refused = await grpcError(infer(client));
      assert.equal(refused.code, status.RESOURCE_EXHAUSTED, refused.details);
      assert.match(refused.details, METADATA_LIMIT);
    });

    it('a 100 KB authorization header: refused by HTTP/2 itself (one header field over HPACK\'s 64 KiB); other connections are served throughout', async () => {
      const tenant = await createTestTenant(service);
      const bystander = newClient(tenant.key);
      await infer(bystander);
      const huge = newClient(`trg_${'A'.repeat(100 * 1024)}`);
      const refused: ServiceError = await grpcError(infer(huge));
      // node:http2 (nghttp2) cannot decode a single header field this large: the connection
      // is closed with COMPRESSION_ERROR before triage sees the call. grpc-js reports INTERNAL.
      assert.equal(refused.code, status.INTERNAL, refused.details);
      assert.match(refused.details, /RST_STREAM with code 9/);
      await infer(bystander);
      await infer(newClient(tenant.key));
    });

    it('REST: a 100 KB authorization header is 431; REST keeps serving', async () => {
      const base = `http://127.0.0.1:${(fixture as TriageFixture).triage.httpPort}`;
      const body = JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }] });
      const refused = await fetch(`${base}/v2/models/identity_fp32/infer`, { method: 'POST', headers: { authorization: `Bearer ${'A'.repeat(100 * 1024)}` }, body });
      assert.equal(refused.status, 431);
      const tenant = await createTestTenant(service);
      const served = await fetch(`${base}/v2/models/identity_fp32/infer`, { method: 'POST', headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' }, body });
      assert.equal(served.status, 200);
    });
  });

  describe('quotas', () => {
    it('parseTenantQuotas refuses negative, zero, fractional, absurd, wrong-typed and unknown fields, naming the field', () => {
      for (const [what, input, message] of BAD_QUOTAS) {
        assert.throws(() => parseTenantQuotas(input), (error: unknown) => {
          assert.ok(error instanceof TriageError, what);
          assert.equal(error.code, 'INVALID_ARGUMENT', what);
          assert.match(error.message, message, what);
          return true;
        }, what);
      }
      // The boundaries themselves are accepted.
      assert.deepEqual(parseTenantQuotas({ requests_per_second: 1_000_000, burst: 1, daily_requests: 0, max_request_bytes: 2_147_483_647, priority: 0, allowed_models: 'all' }),
        { requests_per_second: 1_000_000, burst: 1, daily_requests: 0, max_request_bytes: 2_147_483_647, priority: 0, allowed_models: null });
    });

    it('TenancyService.setQuotas refuses the same documents and leaves the stored quotas (and their enforcement) unchanged', async () => {
      // 1/s refills one slot per second: the 8 calls below, sent at once, cannot earn a 6th even on a busy machine.
      const quotas = { requests_per_second: 1, burst: 5, allowed_models: ['identity_fp32'], models: { identity_fp32: { max_concurrent: 20 } } };
      const tenant = await createTestTenant(service, { quotas });
      for (const [what, input, message] of BAD_QUOTAS) {
        const error = await triageErrorOf(() => service.setQuotas(tenant.id, input));
        assert.equal(error.code, 'INVALID_ARGUMENT', what);
        assert.match(error.message, message, what);
      }
      assert.deepEqual(await service.getQuotas(tenant.id), quotas);
      // The proxy still applies them: the burst of 5 at 1/s, and only identity_fp32.
      const client = newClient(tenant.key);
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => infer(client).then(() => 'ok', (error: ServiceError) => error.code)));
      assert.equal(outcomes.filter((outcome) => outcome === 'ok').length, 5, outcomes.join(','));
      await sleep(100);
      const other = await grpcError(client.unary('ModelInfer', inferRequest('simple', []), { timeoutMs: 10_000 }));
      assert.equal(other.code, status.PERMISSION_DENIED);
    });

    it('unknown tenants: NOT_FOUND for quotas and keys, nothing written', async () => {
      const redis = (fixture as TriageFixture).triage.tenancy.redis;
      const keys = (fixture as TriageFixture).triage.tenancy.keys;
      const tenantsBefore = (await service.listTenants()).length;
      for (const call of [
        () => service.setQuotas('t_doesnotexist', { requests_per_second: 5 }),
        () => service.getQuotas('t_doesnotexist'),
        () => service.createKey('t_doesnotexist', { scopes: ['infer'] }),
        () => service.revokeKey('t_doesnotexist', 'AAAAAAAAAA'),
        () => service.updateTenant('t_doesnotexist', { status: 'suspended' }),
        () => service.setQuotas('admin', { requests_per_second: 5 }),
      ]) {
        const error = await triageErrorOf(call);
        assert.equal(error.code, 'NOT_FOUND', error.message);
      }
      assert.equal(await redis.exists(keys.quotas('t_doesnotexist'), keys.tenantKeys('t_doesnotexist'), keys.tenant('t_doesnotexist'), keys.quotas('admin')), 0);
      assert.equal((await service.listTenants()).length, tenantsBefore);
    });

    it('bad tenants and keys: INVALID_ARGUMENT naming the field, nothing created', async () => {
      const tenant = await createTestTenant(service);
      const tenantsBefore = (await service.listTenants()).length;
      for (const [input, field] of [
        [{ name: '' }, /^name must be/],
        [{ name: 'x'.repeat(65) }, /^name must be/],
        [{ name: 42 }, /^name must be/],
        [{ name: 'ok', plan: 'gold' }, /^plan is not a field here/],
        [{ name: 'ok', labels: { team: 5 } }, /^labels\.team must be a string/],
        [[], /^body must be a JSON object/],
      ] as const) {
        const error = await triageErrorOf(() => service.createTenant(input));
        assert.equal(error.code, 'INVALID_ARGUMENT');
        assert.match(error.message, field);
      }
      assert.equal((await service.listTenants()).length, tenantsBefore);
      const keysBefore = await service.listKeys(tenant.id);
      for (const [input, field] of [
        [{ scopes: [] }, /^scopes must be a non-empty list/],
        [{ scopes: ['infer', 'root'] }, /^scopes\[1\] must be one of infer, jobs, read, admin, got "root"$/],
        [{ scopes: 'infer' }, /^scopes must be a non-empty list/],
        [{ scopes: ['infer'], expires_at: '2001-01-01T00:00:00Z' }, /^expires_at must be in the future$/],
        [{ scopes: ['infer'], expires_at: 'tomorrow' }, /^expires_at must be an ISO 8601 time/],
        [{ scopes: ['infer'], expires_at: 1_900_000_000 }, /^expires_at must be an ISO 8601 time/],
        [{ scopes: ['infer'], tenant_id: 't_other' }, /^tenant_id is not a field here/],
      ] as const) {
        const error = await triageErrorOf(() => service.createKey(tenant.id, input));
        assert.equal(error.code, 'INVALID_ARGUMENT');
        assert.match(error.message, field);
      }
      assert.deepEqual(await service.listKeys(tenant.id), keysBefore);
    });

    it('the key of a deleted tenant is refused at once by the proxy', async () => {
      const tenant = await createTestTenant(service);
      const client = newClient(tenant.key);
      await infer(client);
      await service.deleteTenant(tenant.id);
      const deadline = Date.now() + 1000;
      for (;;) {
        const outcome = await infer(client).then(() => null, (error: ServiceError) => error);
        if (outcome !== null) {
          assert.equal(outcome.code, status.UNAUTHENTICATED);
          break;
        }
        assert.ok(Date.now() < deadline, 'still served 1 s after the tenant was deleted');
        await sleep(10);
      }
    });
  });
});
