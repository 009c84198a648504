import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { after, before, describe, it } from 'mocha';
import { inferRequest, int32Buffer, readInt32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { SAMPLE_REPOSITORY } from '../support/temp-repository';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

describe('gateway: Triton instances discovered through DNS (dns:NAME:PORT)', () => {
  let instance: LocalTritonFixture;
  let gateway: TriageFixture;

  before(async () => {
    instance = await startLocalTritonFixture({ modelRepository: SAMPLE_REPOSITORY });
    gateway = await startTriageFixture([], {
      tritonUrls: { kind: 'dns', name: 'localhost', port: instance.server.grpcPort },
      dnsRefreshMs: 200,
    });
  });
  after(async () => {
    await gateway?.stop();
    await instance?.stop();
  });

  it('resolves the name to every address it has, each on the given port', async () => {
    const expected = (await lookup('localhost', { all: true }))
      .map((record) => (record.family === 6 ? `[${record.address}]:${instance.server.grpcPort}` : `${record.address}:${instance.server.grpcPort}`));
    assert.deepEqual(gateway.triage.pool.list().map((i) => i.address).sort(), [...new Set(expected)].sort());
  });

  it('routes to the address that answers (the instance listens on 127.0.0.1 only)', async () => {
    const healthy = gateway.triage.pool.list().filter((i) => i.health === 'healthy').map((i) => i.address);
    assert.deepEqual(healthy, [`127.0.0.1:${instance.server.grpcPort}`]);
    const a = Array.from({ length: 16 }, (_, i) => i);
    const response = await gateway.client.unary<{ raw_output_contents: Buffer[] }>('ModelInfer', inferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
    ]));
    assert.deepEqual(readInt32(response.raw_output_contents[0] as Buffer), a.map((x) => 2 * x));
  });

  it('keeps the same instances across re-resolutions of an unchanged answer', async () => {
    const before = gateway.triage.pool.list();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = gateway.triage.pool.list();
    assert.deepEqual(after.map((i) => i.address).sort(), before.map((i) => i.address).sort());
    for (const instance of after) assert.ok(before.includes(instance), `${instance.address} was replaced, not kept`);
  });
});
