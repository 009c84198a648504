import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { after, before, describe, it } from 'mocha';
import { grpcError, TritonTestClient } from '../support/grpc-test-client';
import { float32Buffer, inferRequest } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';
import { createTestTenant } from '../support/tenant-setup';
import { sharedRedisUrl } from '../support/test-redis';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A call admitted (or being admitted) whose upstream stream never opens, because its only
 * instance is gone, gives its concurrency lease back: the lease set in Redis is empty after
 * it failed (a lease kept would be renewed for the life of the process).
 */
describe('tenancy: a call that never reached its instance gives its concurrency lease back', function () {
  this.timeout(30_000);
  let repository: TempRepository | undefined;
  let triton: LocalTritonFixture | undefined;
  let fixture: TriageFixture | undefined;
  let redis: Redis | undefined;
  const clients: TritonTestClient[] = [];

  before(async () => {
    repository = new TempRepository().copySample('identity_fp32');
    triton = await startLocalTritonFixture({ modelRepository: repository.path });
    fixture = await startTriageFixture([triton.address]);
    redis = new Redis(await sharedRedisUrl());
  });
  after(async () => {
    for (const client of clients) client.close();
    redis?.disconnect();
    await fixture?.stop();
    await triton?.stop();
    repository?.remove();
  });

  it('its only instance stopped: the call fails UNAVAILABLE and the lease set is empty', async () => {
    const tenant = await createTestTenant((fixture as TriageFixture).triage.tenancy.service, { quotas: { max_concurrent: 2 } });
    const client = new TritonTestClient((fixture as TriageFixture).address, undefined, tenant.key);
    clients.push(client);
    const request = inferRequest('identity_fp32', [{ name: 'INPUT0', datatype: 'FP32', shape: [4], raw: float32Buffer([1, 2, 3, 4]) }]);
    await client.unary('ModelInfer', request, { timeoutMs: 10_000 });
    /** Members of the tenant's lease sets (an empty set does not exist in Redis). */
    const leasesHeld = async (): Promise<number> => {
      let held = 0;
      for (const key of await (redis as Redis).keys(`*${tenant.id}*:conc`)) held += await (redis as Redis).zcard(key);
      return held;
    };
    /** Waits up to 2 s (releases go within milliseconds) for the tenant to hold no lease. */
    const noLeaseWithin2s = async (what: string): Promise<void> => {
      const deadline = Date.now() + 2000;
      while (await leasesHeld() > 0) {
        assert.ok(Date.now() < deadline, what);
        await sleep(20);
      }
    };
    await noLeaseWithin2s('the finished call gave its lease back');

    await (triton as LocalTritonFixture).stop();
    const failed = await grpcError(client.unary('ModelInfer', request, { timeoutMs: 10_000 }));
    assert.ok([status.UNAVAILABLE, status.NOT_FOUND].includes(failed.code), `${failed.code} ${failed.details}`);
    await noLeaseWithin2s('no lease is held for the call that never ran');
  });
});
