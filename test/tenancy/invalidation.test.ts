import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { grpcError, TritonTestClient } from '../support/grpc-test-client';
import { inferRequest, int32Buffer } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { SAMPLE_REPOSITORY } from '../support/temp-repository';
import { createTestTenant } from '../support/tenant-setup';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

const sixteen = int32Buffer(Array.from({ length: 16 }, (_, i) => i));
const simple = inferRequest('simple', [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: sixteen },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: sixteen },
]);

describe('tenancy: a change reaches the key cache even when its pub/sub message is lost', () => {
  let instance: LocalTritonFixture;
  let gateway: TriageFixture;

  before(async () => {
    instance = await startLocalTritonFixture({ modelRepository: SAMPLE_REPOSITORY });
    gateway = await startTriageFixture([instance.address]);
  });
  after(async () => {
    await gateway?.stop();
    await instance?.stop();
  });

  it('a revocation written without its message (as a subscriber that missed it sees it) is enforced within 1 s', async () => {
    const { tenancy } = gateway.triage;
    const tenant = await createTestTenant(tenancy.service);
    const client = new TritonTestClient(gateway.address, undefined, tenant.key);
    try {
      await client.unary('ModelInfer', simple);
      // What revokeKey does, minus the PUBLISH: the key is revoked and the change counted.
      await tenancy.redis.hset(tenancy.keys.apiKey(tenant.keyId), 'revoked_at', new Date().toISOString());
      await tenancy.redis.incr(tenancy.keys.invalidationVersion());
      const startedMs = Date.now();
      let refusedAfterMs = Infinity;
      while (Date.now() - startedMs < 3000) {
        const outcome = await client.unary('ModelInfer', simple).then(() => null, (error: { code: number; details: string }) => error);
        if (outcome !== null) {
          assert.equal(outcome.code, status.UNAUTHENTICATED);
          assert.equal(outcome.details, `API key ${tenant.keyId} was revoked`);
          refusedAfterMs = Date.now() - startedMs;
          break;
        }
      }
      assert.ok(refusedAfterMs < 1000, `still accepted ${refusedAfterMs} ms after the revocation`);
      assert.equal((await grpcError(client.unary('ModelInfer', simple))).code, status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });
});
